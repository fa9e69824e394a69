#include "alertwatch.h"

#include "isotime.h"

#include <QDateTime>

namespace fleet {

namespace {

AlertmanagerConfig oneAttempt(AlertmanagerConfig config)
{
    // The next poll is the retry: a poll that failed counts as missed at once, instead of after its own retries.
    config.maxAttempts = 1;
    return config;
}

} // namespace

AlertWatch::AlertWatch(const AlertmanagerConfig &config, int intervalSeconds, QObject *parent)
    : QObject(parent)
    , m_client(new AlertmanagerClient(oneAttempt(config), this))
    , m_intervalSeconds(std::clamp(intervalSeconds, 1, 3600))
{
    m_timer.setInterval(m_intervalSeconds * 1000);
    connect(&m_timer, &QTimer::timeout, this, &AlertWatch::pollNow);
    m_timer.start();
    QTimer::singleShot(0, this, &AlertWatch::pollNow);
}

void AlertWatch::pollNow()
{
    if (m_polling)
        return; // the last poll is still out: it counts once, answered or not
    m_polling = true;
    m_client->alerts(this, [this](ApiResult<QList<AmAlert>> r) {
        m_polling = false;
        if (r.ok()) {
            m_alerts = r.take();
            m_lastSuccessMs = QDateTime::currentMSecsSinceEpoch();
            m_missed = 0;
            m_lastError.clear();
        } else {
            ++m_missed;
            m_lastError = r.error().message;
        }
        Q_EMIT changed();
    });
}

QList<AmAlert> AlertWatch::alertsFor(const QString &region) const
{
    QList<AmAlert> out;
    for (const AmAlert &a : m_alerts)
        if (a.labels.value(QStringLiteral("region")) == region)
            out << a;
    return out;
}

QString AlertWatch::summary(const QList<AmAlert> &alerts)
{
    QStringList firing;
    QStringList quiet;
    for (const AmAlert &a : alerts) {
        const QString name = a.name().isEmpty() ? QStringLiteral("(unnamed alert)") : a.name().left(80);
        if (a.state == QLatin1String("active"))
            firing << (a.startsAt > 0 ? tr("%1 firing since %2 UTC").arg(name, formatIsoUtc(a.startsAt).mid(11, 5))
                                      : tr("%1 firing").arg(name));
        else if (!a.silencedBy.isEmpty())
            quiet << tr("%1 silenced").arg(name);
        else if (!a.inhibitedBy.isEmpty())
            quiet << tr("%1 inhibited").arg(name);
    }
    return (firing + quiet).join(QStringLiteral(" · "));
}

QString AlertWatch::brief(const QList<AmAlert> &alerts)
{
    QStringList firing;
    int silenced = 0;
    int inhibited = 0;
    for (const AmAlert &a : alerts) {
        if (a.state == QLatin1String("active"))
            firing << (a.name().isEmpty() ? QStringLiteral("(unnamed)") : a.name().left(80));
        else if (!a.silencedBy.isEmpty())
            ++silenced;
        else if (!a.inhibitedBy.isEmpty())
            ++inhibited;
    }
    QStringList parts;
    if (!firing.isEmpty())
        parts << tr("%1 firing: %2").arg(firing.size()).arg(firing.join(QStringLiteral(", ")));
    if (silenced)
        parts << tr("%1 silenced").arg(silenced);
    if (inhibited)
        parts << tr("%1 inhibited").arg(inhibited);
    return parts.join(QStringLiteral(" · "));
}

QString AlertWatch::statusText(qint64 nowMs) const
{
    if (m_lastSuccessMs == 0)
        return m_missed == 0 ? tr("Alertmanager: asking")
                             : tr("Alertmanager cannot be read (%1): alerts unknown").arg(m_lastError);
    const qint64 age = std::max<qint64>(0, (nowMs - m_lastSuccessMs) / 1000);
    if (isStale())
        return tr("Alertmanager: %1 polls missed (%2); alerts as of %3 UTC, may be out of date")
            .arg(m_missed)
            .arg(m_lastError, formatIsoUtc(m_lastSuccessMs).mid(11, 8));
    return tr("Alertmanager polled %1 s ago").arg(age);
}

} // namespace fleet
