"""Pictures for the chat: a theme's timeline, the year plan and evaluation results.

Pure functions from domain data (plus `today` and the words of the bot's language) to a
matplotlib figure, drawn on the Agg canvas (no display, no system packages) and saved as
PNG for Matrix, or as SVG for the tests that check what a picture shows. `Charts` keeps
a bounded cache: identical content is drawn once.
"""

from bot.charts.drawing import Charts, ChartWords, Picture

__all__ = ["ChartWords", "Charts", "Picture"]
