"""Date formats for English pages (the admin, the browsable API): times to the second and with
their zone (TZ_NAME), so staff comparing two changes minutes apart can tell them apart."""

DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
TIME_FORMAT = "H:i:s T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
