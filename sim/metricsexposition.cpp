#include "metricsexposition.h"

#include "simulation.h"

namespace fleet::sim {

namespace {

QByteArray label(const QString &v)
{
    QString s = v;
    s.replace(u'\\', QLatin1String("\\\\")).replace(u'"', QLatin1String("\\\"")).replace(u'\n', QLatin1String("\\n"));
    return s.toUtf8();
}

MetricFamily family(const char *name, const char *type, const char *help)
{
    return MetricFamily { name, type, help, {} };
}

} // namespace

QList<MetricFamily> fleetMetrics(const Simulation &sim, int streamClients)
{
    QList<MetricFamily> out;
    MetricFamily workers = family("fleet_workers", "gauge", "Workers by region and state.");
    MetricFamily dispatch = family(
        "fleet_region_dispatch_active", "gauge", "1 when the region takes new builds, 0 when draining or drained.");
    MetricFamily loss
        = family("fleet_region_packet_loss_ratio", "gauge", "Packet loss towards the region's workers (0..1).");
    MetricFamily rtt
        = family("fleet_region_rtt_p95_seconds", "gauge", "95th percentile round-trip time to the region's workers.");
    MetricFamily queue
        = family("fleet_queue_depth", "gauge", "Builds waiting for a worker, by the region they arrived in.");
    MetricFamily builds
        = family("fleet_builds_total", "counter", "Builds by region and result since the simulator started.");
    MetricFamily failures = family("fleet_build_failures_total", "counter", "Failed builds by region and reason.");
    for (int r = 0; r < sim.regionCount(); ++r) {
        const Region &reg = sim.region(r);
        const QByteArray id = label(reg.id);
        for (int s = 0; s < kWorkerStateCount; ++s)
            workers.samples.append(
                { "fleet_workers{region=\"" + id + "\",state=\"" + wireName(WorkerState(s)).toLatin1() + "\"}",
                    QByteArray::number(reg.workersByState[s]) });
        dispatch.samples.append({ "fleet_region_dispatch_active{region=\"" + id + "\"}",
            reg.dispatchState == DispatchState::Active ? "1" : "0" });
        loss.samples.append(
            { "fleet_region_packet_loss_ratio{region=\"" + id + "\"}", QByteArray::number(reg.packetLoss, 'g', 6) });
        rtt.samples.append({ "fleet_region_rtt_p95_seconds{region=\"" + id + "\"}",
            QByteArray::number(reg.rttP95Ms / 1000.0, 'g', 6) });
        queue.samples.append({ "fleet_queue_depth{region=\"" + id + "\"}", QByteArray::number(sim.queuedBuilds(r)) });
        const RegionTotals &t = sim.regionTotals(r);
        builds.samples.append(
            { "fleet_builds_total{region=\"" + id + "\",result=\"started\"}", QByteArray::number(t.buildsStarted) });
        builds.samples.append({ "fleet_builds_total{region=\"" + id + "\",result=\"succeeded\"}",
            QByteArray::number(t.buildsSucceeded) });
        builds.samples.append(
            { "fleet_builds_total{region=\"" + id + "\",result=\"failed\"}", QByteArray::number(t.buildsFailed) });
        for (int f = 0; f < kFailureReasonCount; ++f)
            failures.samples.append({ "fleet_build_failures_total{region=\"" + id + "\",reason=\""
                    + wireName(FailureReason(f)).toLatin1() + "\"}",
                QByteArray::number(t.failures[f]) });
    }
    MetricFamily events = family("fleet_sim_events_total", "counter", "Events the simulator has produced.");
    events.samples.append({ "fleet_sim_events_total", QByteArray::number(sim.events().totalAppended()) });
    MetricFamily streams = family("fleet_sim_event_stream_clients", "gauge", "Open /v1/events streams.");
    streams.samples.append({ "fleet_sim_event_stream_clients", QByteArray::number(streamClients) });
    MetricFamily clock = family("fleet_sim_time_seconds", "gauge", "The simulated clock, as Unix time.");
    clock.samples.append({ "fleet_sim_time_seconds", QByteArray::number(sim.now() / 1000) });
    out << workers << dispatch << loss << rtt << queue << builds << failures << events << streams << clock;
    return out;
}

QByteArray prometheusText(const QList<MetricFamily> &families)
{
    QByteArray out;
    for (const MetricFamily &f : families) {
        out += "# HELP " + f.name + ' ' + f.help + "\n# TYPE " + f.name + ' ' + f.type + '\n';
        for (const auto &[series, value] : f.samples)
            out += series + ' ' + value + '\n';
    }
    return out;
}

void OpenMetricsWriter::add(const QList<MetricFamily> &families, qint64 unixSeconds)
{
    const QByteArray stamp = ' ' + QByteArray::number(unixSeconds) + '\n';
    for (const MetricFamily &f : families) {
        if (!m_headers.contains(f.name)) {
            const QByteArray name
                = f.type == "counter" && f.name.endsWith("_total") ? f.name.chopped(6) : f.name; // OpenMetrics' rule
            m_order.append(f.name);
            m_headers.insert(f.name, "# HELP " + name + ' ' + f.help + "\n# TYPE " + name + ' ' + f.type + '\n');
        }
        QByteArray &body = m_bodies[f.name];
        for (const auto &[series, value] : f.samples) {
            body += series + ' ' + value + stamp;
            ++m_samples;
        }
    }
}

QByteArray OpenMetricsWriter::finish() const
{
    QByteArray out;
    for (const QByteArray &name : m_order)
        out += m_headers.value(name) + m_bodies.value(name);
    out += "# EOF\n";
    return out;
}

} // namespace fleet::sim
