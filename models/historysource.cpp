#include "historysource.h"

#include "fleetclient.h"
#include "isotime.h"

#include <QDateTime>
#include <QPointer>

#include <memory>
#include <optional>

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
    // The primary's chunks (Prometheus covers a day in one); a chunk the fallback takes is asked in its own pieces.
    return m_primary->maxPointsPerRequest();
}

void FallbackHistory::fetchFallback(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<HealthHistory>)> done)
{
    const qint64 piece = std::max<qint64>(1, qint64(m_fallback->maxPointsPerRequest()) * std::max(1, stepSeconds));
    if (toSecond - fromSecond <= piece) {
        m_fallback->fetch(region, fromSecond, toSecond, stepSeconds, context, std::move(done));
        return;
    }
    // Oldest piece first, each appended to what came before; the first failure is the answer. The step function
    // holds itself weakly; a request in flight holds it, so it lives exactly as long as the pieces do.
    auto merged = std::make_shared<std::optional<HealthHistory>>();
    auto next = std::make_shared<std::function<void(qint64)>>();
    std::weak_ptr<std::function<void(qint64)>> weak = next;
    QPointer<QObject> guard(context);
    *next = [this, region, toSecond, stepSeconds, piece, guard, done, merged, weak](qint64 from) {
        auto self = weak.lock();
        if (!self || !guard)
            return;
        const qint64 to = std::min(toSecond, from + piece);
        m_fallback->fetch(region, from, to, stepSeconds, guard.data(),
            [to, toSecond, done, merged, self](ApiResult<HealthHistory> r) {
                if (!r.ok()) {
                    done(std::move(r));
                    return;
                }
                if (!*merged) {
                    *merged = r.take();
                } else {
                    HealthHistory &h = **merged;
                    h.buckets.insert(h.buckets.end(), r->buckets.begin(), r->buckets.end());
                    h.to = r->to;
                    h.warnings += r->warnings;
                }
                if (to >= toSecond)
                    done(ApiResult<HealthHistory>::success(std::move(**merged)));
                else
                    (*self)(to);
            });
    };
    (*next)(fromSecond);
}

void FallbackHistory::fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<HealthHistory>)> done)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    auto fromFallback = [this, region, fromSecond, toSecond, stepSeconds, context, done]() {
        fetchFallback(region, fromSecond, toSecond, stepSeconds, context, done);
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
