#include "history.h"

#include "commands.h"
#include "isotime.h"
#include "prometheushistory.h"
#include "terminalsafe.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>

#include <optional>

namespace fleet::ctl {

namespace {

QJsonObject sampleJson(const HealthSample &s)
{
    QJsonObject failures;
    for (int f = 0; f < kFailureReasonCount; ++f)
        failures.insert(wireName(FailureReason(f)).toString(), s.failures[f]);
    QJsonObject workers;
    for (int w = 0; w < kWorkerStateCount; ++w)
        workers.insert(wireName(WorkerState(w)).toString(), s.workersByState[w]);
    return QJsonObject { { QStringLiteral("time"), formatIsoUtc(s.time) },
        { QStringLiteral("packet_loss"), s.packetLoss }, { QStringLiteral("rtt_p95_ms"), s.rttP95Ms },
        { QStringLiteral("queue_depth"), s.queueDepth }, { QStringLiteral("builds_failed"), s.buildsFailed },
        { QStringLiteral("failures"), failures }, { QStringLiteral("workers"), workers } };
}

} // namespace

int runHistory(const HistoryOptions &o)
{
    PrometheusQueries queries = PrometheusQueries::defaults();
    if (!o.queriesFile.isEmpty()) {
        auto loaded = PrometheusQueries::load(o.queriesFile);
        if (!loaded) {
            err() << "fleetctl history: " << terminalSafe(loaded.error()) << Qt::endl;
            return 2;
        }
        queries = loaded.take();
    }
    PrometheusClient client(o.prometheus);
    PrometheusHistory source(&client, queries, o.scrapeSeconds);
    const qint64 to = QDateTime::currentSecsSinceEpoch();
    const qint64 from = to - o.rangeSeconds;
    const int step = PrometheusClient::stepFor(o.rangeSeconds, o.columns, o.scrapeSeconds);
    std::optional<ApiResult<HealthHistory>> result;
    QObject context;
    source.fetch(o.region, from, to, step, &context, [&](ApiResult<HealthHistory> r) { result = std::move(r); });
    if (!waitUntil([&] { return result.has_value(); }, o.timeoutSeconds * 1000)) {
        err() << "fleetctl history: no answer from Prometheus within " << o.timeoutSeconds << " s" << Qt::endl;
        return 5;
    }
    if (!result->ok()) {
        const ApiError &e = result->error();
        err() << "fleetctl history: " << terminalSafe(e.message) << Qt::endl;
        const bool refused = e.kind == ApiError::Kind::Unauthorized || e.kind == ApiError::Kind::Forbidden
            || e.kind == ApiError::Kind::Invalid
            || (e.kind == ApiError::Kind::Http && (e.httpStatus == 400 || e.httpStatus == 422));
        return refused ? 3 : 5;
    }
    const HealthHistory &h = **result;
    for (const QString &w : h.warnings)
        err() << "fleetctl history: Prometheus warns: " << terminalSafe(w) << Qt::endl;
    int present = 0;
    for (const HealthSample &s : h.buckets)
        present += s.samples > 0 ? 1 : 0;
    if (o.json) {
        QJsonArray samples;
        for (const HealthSample &s : h.buckets)
            if (s.samples > 0)
                samples.append(sampleJson(s));
        printJson(QJsonObject { { QStringLiteral("source"), QStringLiteral("prometheus") },
            { QStringLiteral("region"), h.region }, { QStringLiteral("from"), formatIsoUtc(h.from) },
            { QStringLiteral("to"), formatIsoUtc(h.to) }, { QStringLiteral("step_s"), h.stepSeconds },
            { QStringLiteral("buckets"), qint64(h.buckets.size()) },
            { QStringLiteral("gaps"), qint64(h.buckets.size()) - present },
            { QStringLiteral("warnings"), QJsonArray::fromStringList(h.warnings) },
            { QStringLiteral("samples"), samples } });
        return 0;
    }
    out() << "region " << terminalSafe(h.region) << " from Prometheus, " << formatIsoUtc(h.from) << " to "
          << formatIsoUtc(h.to) << ", one point per " << h.stepSeconds << " s: " << present << " of "
          << h.buckets.size() << " with data" << Qt::endl;
    out() << "time                   loss %   rtt p95 ms  failed  queue  workers (idle/busy/offline/provisioning)"
          << Qt::endl;
    for (const HealthSample &s : h.buckets) {
        if (s.samples == 0)
            continue;
        out() << formatIsoUtc(s.time).leftJustified(22) << ' '
              << QString::number(s.packetLoss * 100, 'f', 2).rightJustified(6) << "  "
              << QString::number(s.rttP95Ms, 'f', 1).rightJustified(10) << "  "
              << QString::number(s.buildsFailed).rightJustified(6) << "  "
              << QString::number(s.queueDepth).rightJustified(5) << "  " << s.workersByState[int(WorkerState::Idle)]
              << '/' << s.workersByState[int(WorkerState::Busy)] << '/' << s.workersByState[int(WorkerState::Offline)]
              << '/' << s.workersByState[int(WorkerState::Provisioning)] << Qt::endl;
    }
    return 0;
}

} // namespace fleet::ctl
