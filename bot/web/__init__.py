"""The bot's HTTP side: one aiohttp server (`[web] listen`) whose parts add their routes —
the calendar feeds now (`feeds.py`), the health endpoint next to them later."""
