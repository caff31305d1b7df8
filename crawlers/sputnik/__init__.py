"""Sputnik (MIA Rossiya Segodnya): every language edition on one CMS."""
