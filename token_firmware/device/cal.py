"""Calendar maths of our own: UTC civil dates to Unix seconds and back, and the port's epoch.

The unix port's ``time.mktime`` uses the local time zone and ports differ in epoch (1970 on rp2 and unix,
2000 on esp32), so the firmware never relies on either.
"""

EPOCH_2000 = 946684800  # 2000-01-01T00:00:00Z in Unix seconds


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of the proleptic Gregorian date y-m-d (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """(year, month, day) of the day ``z`` days after 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def to_unix(y, mo, d, h, mi, s):
    """Unix seconds of a UTC date and time."""
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s


def from_unix(t):
    """(year, month, day, hour, minute, second, weekday 1=Monday..7) of Unix seconds ``t``."""
    days = t // 86400
    rem = t - days * 86400
    y, mo, d = civil_from_days(days)
    wday = (days + 3) % 7 + 1  # 1970-01-01 was a Thursday
    return y, mo, d, rem // 3600, (rem // 60) % 60, rem % 60, wday


def epoch_offset(gmtime):
    """Seconds to add to this port's ``time.time()`` to get Unix time, read from ``gmtime(0)``'s year."""
    year = gmtime(0)[0]
    if year == 1970:
        return 0
    if year == 2000:
        return EPOCH_2000
    return to_unix(year, 1, 1, 0, 0, 0)
