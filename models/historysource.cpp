#include "historysource.h"

#include "fleetclient.h"
#include "isotime.h"

#include <QDateTime>
#include <QPointer>

namespace fleet {

FleetApiHistory::FleetApiHistory(FleetClient *client)
    : m_client(client)
{
}

QString FleetApiHistory::name() const
{
    return QStringLiteral("Fleet API");
}

void FleetApiHistory::fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<HealthHistory>)> done)
{
    if (!m_client)
        return;
    m_client->health(
        region, formatIsoUtc(fromSecond * 1000), formatIsoUtc(toSecond * 1000), stepSeconds, context, std::move(done));
}

FallbackHistory::FallbackHistory(std::unique_ptr<HistorySource> primary, std::unique_ptr<HistorySource> fallback)
    : m_primary(std::move(primary))
    , m_fallback(std::move(fallback))
{
}

QString FallbackHistory::name() const
{
    return QStringLiteral("%1, else %2").arg(m_primary->name(), m_fallback->name());
}

int FallbackHistory::maxPointsPerRequest() const
{
    return std::min(m_primary->maxPointsPerRequest(), m_fallback->maxPointsPerRequest());
}

void FallbackHistory::fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<HealthHistory>)> done)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    auto fromFallback = [this, region, fromSecond, toSecond, stepSeconds, context, done]() {
        m_fallback->fetch(region, fromSecond, toSecond, stepSeconds, context, done);
    };
    if (m_primaryFailedAtMs > 0 && now - m_primaryFailedAtMs < kRetryPrimaryMs) {
        fromFallback();
        return;
    }
    QPointer<QObject> guard(context);
    m_primary->fetch(region, fromSecond, toSecond, stepSeconds, context,
        [this, guard, fromFallback, done](ApiResult<HealthHistory> r) {
            if (r.ok()) {
                m_primaryFailedAtMs = 0;
                m_note = QStringLiteral("History from %1.").arg(m_primary->name());
                if (!r->warnings.isEmpty())
                    m_note += QLatin1Char(' ')
                        + QStringLiteral("%1 warns: %2").arg(m_primary->name(), r->warnings.join(QStringLiteral("; ")));
                done(std::move(r));
                return;
            }
            m_primaryFailedAtMs = QDateTime::currentMSecsSinceEpoch();
            m_note = QStringLiteral("%1 cannot be used (%2). History from the %3; %1 is asked again in a minute.")
                         .arg(m_primary->name(), r.error().message, m_fallback->name());
            if (guard)
                fromFallback();
        });
}

} // namespace fleet
