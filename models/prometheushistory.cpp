#include "prometheushistory.h"

#include "clientconfig.h"
#include "prometheus.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cmath>
#include <memory>

namespace fleet {

PrometheusQueries PrometheusQueries::defaults()
{
    PrometheusQueries q;
    q.packetLoss = QStringLiteral("max(fleet_region_packet_loss_ratio{region=\"$region\"})");
    q.rttP95 = QStringLiteral("max(fleet_region_rtt_p95_seconds{region=\"$region\"})");
    q.failures = QStringLiteral("sum by (reason) (rate(fleet_build_failures_total{region=\"$region\"}[$window]))");
    q.workers = QStringLiteral("sum by (state) (fleet_workers{region=\"$region\"})");
    q.queueDepth = QStringLiteral("sum(fleet_queue_depth{region=\"$region\"})");
    return q;
}

Result<PrometheusQueries> PrometheusQueries::load(const QString &path)
{
    using R = Result<PrometheusQueries>;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return R::failure(QStringLiteral("cannot read the queries file %1: %2").arg(path, file.errorString()));
    if (file.size() > 256 * 1024)
        return R::failure(QStringLiteral("the queries file %1 is larger than 256 KB").arg(path));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject())
        return R::failure(
            QStringLiteral("the queries file %1 is not a JSON object (%2)").arg(path, error.errorString()));
    PrometheusQueries q = defaults();
    const QJsonObject o = doc.object();
    const std::pair<const char *, QString *> keys[]
        = { { "packet_loss", &q.packetLoss }, { "rtt_p95_seconds", &q.rttP95 }, { "failures_per_second", &q.failures },
              { "workers", &q.workers }, { "queue_depth", &q.queueDepth } };
    for (auto it = o.begin(); it != o.end(); ++it) {
        QString *target = nullptr;
        for (const auto &[name, field] : keys)
            if (it.key() == QLatin1String(name))
                target = field;
        if (!target)
            return R::failure(QStringLiteral("the queries file %1 has an unknown key \"%2\" (the keys are "
                                             "packet_loss, rtt_p95_seconds, failures_per_second, workers, queue_depth)")
                                  .arg(path, it.key().left(80)));
        if (!it.value().isString() || it.value().toString().trimmed().isEmpty())
            return R::failure(
                QStringLiteral("the queries file %1: \"%2\" must be a PromQL string").arg(path, it.key()));
        *target = it.value().toString();
    }
    return R::success(q);
}

QString PrometheusQueries::expand(const QString &query, const QString &region, int windowSeconds)
{
    QString q = query;
    q.replace(QLatin1String("$region"), region);
    q.replace(QLatin1String("$window"), QStringLiteral("%1s").arg(windowSeconds));
    return q;
}

PrometheusHistory::PrometheusHistory(PrometheusClient *client, PrometheusQueries queries, int scrapeSeconds)
    : m_client(client)
    , m_queries(std::move(queries))
    , m_scrapeSeconds(std::max(scrapeSeconds, 1))
{
}

QString PrometheusHistory::name() const
{
    return QStringLiteral("Prometheus");
}

namespace {

enum Series { PacketLoss, Rtt, Failures, Workers, Queue, SeriesCount };

const char *seriesName(int s)
{
    static const char *names[] = { "packet loss", "RTT p95", "build failures", "workers", "queue depth" };
    return names[s];
}

// The five answers as they arrive; merged once all are in.
struct Gathering
{
    HealthHistory history;
    int pending = SeriesCount;
    std::optional<ApiError> error;
    std::function<void(ApiResult<HealthHistory>)> done;
};

void apply(HealthHistory &h, int series, const PromMatrix &m)
{
    const qint64 from = h.from / 1000;
    const int step = h.stepSeconds;
    for (const PromSeries &s : m.series) {
        std::optional<FailureReason> reason;
        std::optional<WorkerState> state;
        if (series == Failures && !(reason = failureReasonFromString(s.labels.value(QStringLiteral("reason")))))
            continue; // a reason the Fleet API does not name: not drawn
        if (series == Workers && !(state = workerStateFromString(s.labels.value(QStringLiteral("state")))))
            continue;
        for (const auto &[t, v] : s.points) {
            if (std::isnan(v) || t < from)
                continue; // a gap
            const qint64 k = (t - from) / step;
            if (k < 0 || k >= qint64(h.buckets.size()))
                continue;
            HealthSample &b = h.buckets[std::size_t(k)];
            b.samples = 1;
            switch (series) {
            case PacketLoss:
                b.packetLoss = std::clamp(v, 0.0, 1.0);
                break;
            case Rtt:
                b.rttP95Ms = std::clamp(v * 1000.0, 0.0, 3.6e6);
                break;
            case Failures: {
                const int n = int(std::clamp(std::llround(v * step), 0LL, 1000000000LL));
                b.failures[int(*reason)] += n;
                b.buildsFailed += n;
                break;
            }
            case Workers:
                b.workersByState[int(*state)] = int(std::clamp(std::llround(v), 0LL, 100000000LL));
                break;
            case Queue:
                b.queueDepth = int(std::clamp(std::llround(v), 0LL, 100000000LL));
                break;
            }
        }
    }
    for (const QString &w : m.warnings)
        if (!h.warnings.contains(w))
            h.warnings << w;
}

} // namespace

void PrometheusHistory::fetch(const QString &region, qint64 fromSecond, qint64 toSecond, int stepSeconds,
    QObject *context, std::function<void(ApiResult<HealthHistory>)> done)
{
    // Refused before anything is sent, answered on the next turn of the loop: a fallback then takes the chunk.
    auto refuse = [context, done](const QString &why) {
        ApiError e;
        e.kind = ApiError::Kind::Invalid;
        e.message = why;
        QTimer::singleShot(0, context, [done, e] { done(ApiResult<HealthHistory>::failure(e)); });
    };
    if (!m_client) {
        refuse(QStringLiteral("the Prometheus settings changed since this connection began; reconnect to use them"));
        return;
    }
    if (const QString problem = idProblem(region, QStringLiteral("region")); !problem.isEmpty()) {
        refuse(problem);
        return;
    }
    const qint64 range = std::max<qint64>(toSecond - fromSecond, 1);
    const int step = std::max({ stepSeconds, m_scrapeSeconds, int((range + 9999) / 10000) });
    auto g = std::make_shared<Gathering>();
    g->done = std::move(done);
    g->history.region = region;
    g->history.from = fromSecond * 1000;
    g->history.to = toSecond * 1000;
    g->history.stepSeconds = step;
    const qint64 count = (range + step - 1) / step;
    g->history.buckets.resize(std::size_t(count));
    for (qint64 k = 0; k < count; ++k) {
        g->history.buckets[std::size_t(k)].time = (fromSecond + k * step) * 1000;
        g->history.buckets[std::size_t(k)].stepSeconds = step;
    }
    const int window = std::max(step, 4 * m_scrapeSeconds);
    const QString queries[SeriesCount]
        = { m_queries.packetLoss, m_queries.rttP95, m_queries.failures, m_queries.workers, m_queries.queueDepth };
    for (int s = 0; s < SeriesCount; ++s) {
        m_client->queryRange(PrometheusQueries::expand(queries[s], region, window), fromSecond,
            fromSecond + (count - 1) * step, step, context, [g, s](ApiResult<PromMatrix> answer) {
                if (!answer.ok() && !g->error) {
                    ApiError e = answer.error();
                    e.message = QStringLiteral("%1: %2").arg(QLatin1String(seriesName(s)), e.message);
                    g->error = e;
                } else if (answer.ok()) {
                    apply(g->history, s, *answer);
                }
                if (--g->pending > 0)
                    return;
                if (g->error)
                    g->done(ApiResult<HealthHistory>::failure(*g->error));
                else
                    g->done(ApiResult<HealthHistory>::success(std::move(g->history)));
            });
    }
}

} // namespace fleet
