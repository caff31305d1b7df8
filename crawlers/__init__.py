"""newsvault crawlers: one package per outlet, plus what all outlets share."""
