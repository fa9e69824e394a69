#include "isotime.h"

#include <QDateTime>

#include <cstdio>

namespace fleet {

namespace {

// Days since 1970-01-01 to civil date (Howard Hinnant's algorithm, public domain).
void civilFromDays(qint64 z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const qint64 era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const qint64 yy = static_cast<qint64>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = static_cast<int>(yy + (*m <= 2 ? 1 : 0));
}

} // namespace

void appendIsoUtc(QByteArray *out, qint64 msecsSinceEpoch)
{
    qint64 secs = msecsSinceEpoch / 1000;
    int ms = static_cast<int>(msecsSinceEpoch % 1000);
    if (ms < 0) {
        ms += 1000;
        --secs;
    }
    qint64 days = secs / 86400;
    qint64 rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        --days;
    }
    int y = 0;
    unsigned m = 0;
    unsigned d = 0;
    civilFromDays(days, &y, &m, &d);
    char buf[40];
    const int h = static_cast<int>(rem / 3600);
    const int mi = static_cast<int>((rem % 3600) / 60);
    const int s = static_cast<int>(rem % 60);
    int n = 0;
    if (ms == 0)
        n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", y, m, d, h, mi, s);
    else
        n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, h, mi, s, ms);
    out->append(buf, n);
}

QString formatIsoUtc(qint64 msecsSinceEpoch)
{
    QByteArray out;
    appendIsoUtc(&out, msecsSinceEpoch);
    return QString::fromLatin1(out);
}

std::optional<qint64> parseIsoUtc(QStringView text)
{
    // Qt::ISODateWithMs accepts a missing offset (local time); the contract requires one.
    if (text.size() < 20)
        return std::nullopt;
    const QChar last = text.back();
    const bool hasOffset = last == u'Z' || last == u'z'
        || (text.size() >= 6 && (text[text.size() - 6] == u'+' || text[text.size() - 6] == u'-'));
    if (!hasOffset || text[10] != u'T')
        return std::nullopt;
    const QDateTime dt = QDateTime::fromString(text.toString(), Qt::ISODateWithMs);
    if (!dt.isValid())
        return std::nullopt;
    return dt.toMSecsSinceEpoch();
}

} // namespace fleet
