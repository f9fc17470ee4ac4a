"""Zukunftstische-Bot: a Matrix bot that carries a city's Zukunftstische process."""

__version__ = "0.1.0"
