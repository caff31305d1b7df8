"""Scrapy project commands: the CLI layer, which may import every package (extract, reextract, crawl)."""
