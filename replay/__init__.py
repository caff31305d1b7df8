"""The offline replay of the Sputnik sites: a mitmproxy addon, its fixture site, a launcher and the demo."""
