"""
The one way dates and times read across the app (``{{ value|date }}``,
``{{ value|date:"DATETIME_FORMAT" }}``): "26 Nov 2026" and "26 Nov 2026, 10:49", day first, no
ambiguity between readers on either side of the Atlantic. Relative words ("overdue 3 days") and
the time zone's name are added by ``retention/templatetags/display.py``.

Django's own locale formats win over settings' DATE_FORMAT, hence a format module
(``FORMAT_MODULE_PATH``) rather than settings.
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M"
SHORT_DATETIME_FORMAT = "j M, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
FIRST_DAY_OF_WEEK = 1
