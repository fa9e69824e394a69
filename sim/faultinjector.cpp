#include "faultinjector.h"

namespace fleet::sim {

namespace {

QString kindName(FaultInjector::Kind kind)
{
    switch (kind) {
    case FaultInjector::Kind::Error:
        return QStringLiteral("error");
    case FaultInjector::Kind::Stall:
        return QStringLiteral("stall");
    case FaultInjector::Kind::Malformed:
        return QStringLiteral("malformed");
    case FaultInjector::Kind::StallStream:
        return QStringLiteral("stall_stream");
    case FaultInjector::Kind::None:
        break;
    }
    return QStringLiteral("none");
}

} // namespace

FaultInjector::FaultInjector()
{
    m_clock.start();
}

Result<QString> FaultInjector::add(const QJsonObject &spec)
{
    using R = Result<QString>;
    Fault f;
    const QString type = spec.value(QLatin1String("type")).toString();
    if (type == QLatin1String("error"))
        f.kind = Kind::Error;
    else if (type == QLatin1String("stall"))
        f.kind = Kind::Stall;
    else if (type == QLatin1String("malformed"))
        f.kind = Kind::Malformed;
    else if (type == QLatin1String("stall_stream"))
        f.kind = Kind::StallStream;
    else {
        return R::failure(QStringLiteral("type must be one of error, stall, malformed, stall_stream, cut_streams, "
                                         "restart (got \"%1\")")
                              .arg(type));
    }
    f.match = spec.value(QLatin1String("match")).toString(QStringLiteral("/v1/"));
    const int count = spec.value(QLatin1String("count")).toInt(0);
    const int durationMs = spec.value(QLatin1String("duration_ms")).toInt(0);
    if (count < 0 || durationMs < 0) {
        return R::failure(QStringLiteral("count and duration_ms must not be negative"));
    }
    if (f.kind == Kind::StallStream && durationMs == 0) {
        return R::failure(QStringLiteral("stall_stream needs duration_ms"));
    }
    f.remaining = count > 0 ? count : (durationMs > 0 ? -1 : 1);
    f.untilMs = durationMs > 0 ? m_clock.elapsed() + durationMs : 0;
    f.decision.kind = f.kind;
    f.decision.status = spec.value(QLatin1String("status")).toInt(503);
    if (f.kind == Kind::Error && (f.decision.status < 400 || f.decision.status > 599)) {
        return R::failure(QStringLiteral("status must be an HTTP error status from 400 to 599"));
    }
    f.decision.retryAfterSeconds = spec.value(QLatin1String("retry_after_s")).toInt(0);
    f.decision.delayMs = spec.value(QLatin1String("delay_ms")).toInt(durationMs > 0 ? durationMs : 5000);
    f.decision.mode = spec.value(QLatin1String("mode")).toString(QStringLiteral("truncate"));
    if (f.kind == Kind::Malformed
        && !QStringList { QStringLiteral("truncate"), QStringLiteral("not_json"), QStringLiteral("wrong_types") }
                .contains(f.decision.mode)) {
        return R::failure(QStringLiteral("mode must be truncate, not_json or wrong_types"));
    }
    f.id = QStringLiteral("fault-%1").arg(m_nextId++);
    f.decision.faultId = f.id;
    m_faults.push_back(f);
    return R::success(f.id);
}

void FaultInjector::clear()
{
    m_faults.clear();
}

void FaultInjector::expire()
{
    const qint64 now = m_clock.elapsed();
    std::erase_if(m_faults, [now](const Fault &f) { return f.remaining == 0 || (f.untilMs > 0 && now >= f.untilMs); });
}

QJsonArray FaultInjector::list() const
{
    QJsonArray out;
    const qint64 now = m_clock.elapsed();
    for (const Fault &f : m_faults) {
        if (f.remaining == 0 || (f.untilMs > 0 && now >= f.untilMs))
            continue;
        QJsonObject o { { QStringLiteral("id"), f.id }, { QStringLiteral("type"), kindName(f.kind) },
            { QStringLiteral("match"), f.match } };
        if (f.remaining > 0)
            o.insert(QStringLiteral("remaining"), f.remaining);
        if (f.untilMs > 0)
            o.insert(QStringLiteral("remaining_ms"), f.untilMs - now);
        out.append(o);
    }
    return out;
}

FaultInjector::Decision FaultInjector::forRequest(const QString &path, bool isStream)
{
    expire();
    for (Fault &f : m_faults) {
        if (f.kind == Kind::StallStream || (isStream && f.kind != Kind::Error) || !path.startsWith(f.match))
            continue;
        if (f.remaining > 0)
            --f.remaining;
        return f.decision;
    }
    return {};
}

bool FaultInjector::streamsStalled() const
{
    const qint64 now = m_clock.elapsed();
    return std::any_of(m_faults.begin(), m_faults.end(),
        [now](const Fault &f) { return f.kind == Kind::StallStream && (f.untilMs == 0 || now < f.untilMs); });
}

} // namespace fleet::sim
