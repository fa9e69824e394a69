#include "incidentmetrics.h"

#include "healthtimeline.h"
#include "isotime.h"

#include <QDateTime>
#include <QHash>
#include <QJsonDocument>
#include <QJsonObject>

namespace fleet {

namespace {

bool inTrouble(const QString &verdict)
{
    return verdict == QLatin1String("degraded") || verdict == QLatin1String("down");
}

QString regionOf(const IncidentTimeline::Entry &e)
{
    return e.regionId.isEmpty() ? e.region : e.regionId;
}

// The region measured: the first one in trouble for kAffectedMs in all (as the postmortem's "affected"), else the
// first one in trouble at all.
const IncidentTimeline::Entry *firstTrouble(const QList<IncidentTimeline::Entry> &entries)
{
    struct Trouble
    {
        const IncidentTimeline::Entry *first = nullptr;
        qint64 since = 0;
        qint64 total = 0;
    };
    QHash<QString, Trouble> regions;
    QList<QString> order;
    qint64 last = 0;
    for (const IncidentTimeline::Entry &e : entries) {
        last = std::max(last, e.atMs);
        if (e.kind != IncidentTimeline::Entry::Kind::Verdict)
            continue;
        Trouble &t = regions[regionOf(e)];
        if (inTrouble(e.detail)) {
            if (!t.first) {
                t.first = &e;
                order << regionOf(e);
            }
            if (!t.since)
                t.since = e.atMs;
        } else if (t.since) {
            t.total += e.atMs - t.since;
            t.since = 0;
        }
    }
    for (const QString &region : std::as_const(order)) {
        const Trouble &t = regions[region];
        if (t.total + (t.since ? last - t.since : 0) >= IncidentTimeline::kAffectedMs)
            return t.first;
    }
    return order.isEmpty() ? nullptr : regions[order.first()].first;
}

bool mitigates(const IncidentTimeline::Entry &e)
{
    if (e.kind != IncidentTimeline::Entry::Kind::Operation)
        return false;
    const bool kind = e.type == QLatin1String("provision") || e.type == QLatin1String("drain_region")
        || e.type == QLatin1String("drain_worker");
    const bool accepted = e.detail != QLatin1String("failed") && e.detail != QLatin1String("cancelled");
    return kind && accepted;
}

} // namespace

std::optional<qint64> IncidentMetrics::detectMs() const
{
    if (!symptomMs || !verdictMs)
        return std::nullopt;
    return verdictMs - symptomMs;
}

std::optional<qint64> IncidentMetrics::acknowledgeMs() const
{
    if (!acknowledgedMs || !verdictMs)
        return std::nullopt;
    return std::max<qint64>(0, acknowledgedMs - verdictMs);
}

std::optional<qint64> IncidentMetrics::mitigateMs() const
{
    if (!mitigatedMs || !mitigationMs)
        return std::nullopt;
    return std::max<qint64>(0, mitigatedMs - mitigationMs);
}

QString IncidentMetrics::duration(qint64 ms)
{
    const qint64 s = (ms + 500) / 1000;
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return s % 60 ? QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60) : QStringLiteral("%1 min").arg(s / 60);
    return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QString IncidentMetrics::summary() const
{
    if (isEmpty())
        return QStringLiteral("No region was in trouble: nothing to measure.");
    auto figure = [](const char *what, std::optional<qint64> ms, const QString &missing) {
        return ms ? QStringLiteral("%1 in %2").arg(QLatin1String(what), duration(*ms))
                  : QStringLiteral("%1: %2").arg(QLatin1String(what), missing);
    };
    QString mitigated = figure("mitigated", mitigateMs(), mitigateMissing);
    if (mitigateMs() && alreadyUnderAtMitigation)
        mitigated += QStringLiteral(" (its failures were already under the threshold when the first mitigation came)");
    return QStringLiteral("%1: %2; %3; %4.")
        .arg(regionName.isEmpty() ? region : regionName, figure("detected", detectMs(), detectMissing),
            figure("acknowledged", acknowledgeMs(), acknowledgeMissing), mitigated);
}

QList<IncidentTimeline::Entry> IncidentMetrics::milestones() const
{
    QList<IncidentTimeline::Entry> out;
    auto add = [&](qint64 at, const QString &detail, const QString &text) {
        if (!at)
            return;
        IncidentTimeline::Entry e;
        e.atMs = at;
        e.kind = IncidentTimeline::Entry::Kind::Metric;
        e.region = regionName.isEmpty() ? region : regionName;
        e.regionId = region;
        e.detail = detail;
        e.text = text;
        out << e;
    };
    const QString name = regionName.isEmpty() ? region : regionName;
    if (const auto d = detectMs())
        add(symptomMs, QStringLiteral("symptom"),
            QStringLiteral("First symptom in %1: a threshold crossed (detected %2 later)").arg(name, duration(*d)));
    if (const auto a = acknowledgeMs())
        add(acknowledgedMs, QStringLiteral("acknowledged"),
            QStringLiteral("Acknowledged %1 after the verdict: %2").arg(duration(*a), acknowledgedBy));
    if (const auto m = mitigateMs())
        add(mitigatedMs, QStringLiteral("mitigated"),
            QStringLiteral("Mitigated: infrastructure failures in %1 under the threshold for 5 min from here, %2 after "
                           "the first mitigation")
                .arg(name, duration(*m)));
    return out;
}

QByteArray IncidentMetrics::toJson() const
{
    auto time = [](qint64 ms) { return ms ? QJsonValue(formatIsoUtc(ms)) : QJsonValue(QJsonValue::Null); };
    auto seconds = [](std::optional<qint64> ms) { return ms ? QJsonValue(double(*ms) / 1000) : QJsonValue(); };
    auto figure = [&](std::optional<qint64> ms, const QString &missing) {
        QJsonObject o { { QStringLiteral("seconds"), ms ? seconds(ms) : QJsonValue(QJsonValue::Null) } };
        if (!ms)
            o.insert(QStringLiteral("missing"), missing);
        return o;
    };
    const QJsonObject o { { QStringLiteral("region"), region }, { QStringLiteral("region_name"), regionName },
        { QStringLiteral("first_symptom"), time(symptomMs) }, { QStringLiteral("verdict"), time(verdictMs) },
        { QStringLiteral("acknowledged"), time(acknowledgedMs) }, { QStringLiteral("acknowledged_by"), acknowledgedBy },
        { QStringLiteral("first_mitigation"), time(mitigationMs) }, { QStringLiteral("mitigation"), mitigation },
        { QStringLiteral("mitigated"), time(mitigatedMs) },
        { QStringLiteral("time_to_detect"), figure(detectMs(), detectMissing) },
        { QStringLiteral("time_to_acknowledge"), figure(acknowledgeMs(), acknowledgeMissing) },
        { QStringLiteral("time_to_mitigate"), figure(mitigateMs(), mitigateMissing) },
        { QStringLiteral("already_under_at_mitigation"), alreadyUnderAtMitigation } };
    return QJsonDocument(o).toJson(QJsonDocument::Indented);
}

IncidentMetrics measureIncident(
    const QList<IncidentTimeline::Entry> &entries, const HealthTimeline &history, const VerdictThresholds &thresholds)
{
    IncidentMetrics m;
    const IncidentTimeline::Entry *verdict = firstTrouble(entries);
    if (!verdict)
        return m;
    m.region = regionOf(*verdict);
    m.regionName = verdict->region;
    m.verdictMs = verdict->atMs;
    const int index = history.regionIndex(m.region);
    const VerdictTracker judge(thresholds);
    const qint64 verdictSecond = m.verdictMs / 1000;
    auto statsAt
        = [&](qint64 second) { return RegionStats::fromHistory(history, index, second, thresholds.windowSeconds); };

    // Detect: back from the verdict while the measures were past a threshold.
    if (index < 0 || statsAt(verdictSecond).samples == 0) {
        m.detectMissing = QStringLiteral("no health samples of %1 around its verdict").arg(m.regionName);
    } else {
        for (qint64 s = verdictSecond; s > verdictSecond - IncidentMetrics::kLookBackSeconds; --s) {
            const RegionStats stats = statsAt(s);
            if (stats.samples == 0) {
                m.detectMissing = QStringLiteral("the health samples before %1 UTC are missing")
                                      .arg(QDateTime::fromSecsSinceEpoch(s, Qt::UTC).toString(QStringLiteral("HH:mm")));
                break;
            }
            if (judge.classify(stats, 1.0) == Verdict::Healthy) {
                m.symptomMs = (s + 1) * 1000;
                break;
            }
        }
        if (!m.symptomMs && m.detectMissing.isEmpty())
            m.detectMissing = QStringLiteral("past a threshold for more than %1 before the verdict")
                                  .arg(IncidentMetrics::duration(IncidentMetrics::kLookBackSeconds * 1000));
    }

    // Acknowledge and the first mitigation: what people did once the trouble had begun.
    const qint64 since = m.symptomMs ? std::min(m.symptomMs, m.verdictMs) : m.verdictMs;
    for (const IncidentTimeline::Entry &e : entries) {
        if (e.atMs < since)
            continue;
        const bool human = e.kind == IncidentTimeline::Entry::Kind::Operation
            || e.kind == IncidentTimeline::Entry::Kind::StatusUpdate;
        if (human && !m.acknowledgedMs) {
            m.acknowledgedMs = e.atMs;
            m.acknowledgedBy = e.text;
        }
        if (mitigates(e) && !m.mitigationMs) {
            m.mitigationMs = e.atMs;
            m.mitigation = e.text;
        }
    }
    if (!m.acknowledgedMs)
        m.acknowledgeMissing = QStringLiteral("no status update or operation since the verdict");

    // Mitigate: from the first mitigation, the first stretch of 5 minutes under the failure threshold.
    if (!m.mitigationMs) {
        m.mitigateMissing = QStringLiteral("no provision or drain since the trouble began");
    } else if (index < 0) {
        m.mitigateMissing = QStringLiteral("no health samples of %1").arg(m.regionName);
    } else {
        const qint64 stableSeconds = IncidentMetrics::kStableMs / 1000;
        const qint64 latest = history.latestSecond();
        qint64 runStart = -1;
        bool sampled = false;
        for (qint64 s = m.mitigationMs / 1000; s <= latest; ++s) {
            const RegionStats stats = statsAt(s);
            sampled = sampled || stats.samples > 0;
            const bool under = stats.samples > 0
                && (stats.finishedBuilds() < thresholds.minFinishedBuilds
                    || stats.infrastructureFailureLowerBound() < thresholds.degradedFailureRatio);
            if (!under) {
                runStart = -1;
                continue;
            }
            if (runStart < 0) {
                runStart = s;
                m.alreadyUnderAtMitigation = s == m.mitigationMs / 1000;
            }
            if (s - runStart + 1 >= stableSeconds) {
                m.mitigatedMs = runStart * 1000;
                break;
            }
        }
        if (!m.mitigatedMs && !sampled)
            m.mitigateMissing = QStringLiteral("no health samples of %1 after the first mitigation").arg(m.regionName);
        else if (!m.mitigatedMs)
            m.mitigateMissing = runStart >= 0
                ? QStringLiteral("infrastructure failures under the threshold for %1 so far, not 5 min yet")
                      .arg(IncidentMetrics::duration((latest - runStart + 1) * 1000))
                : QStringLiteral("infrastructure failures in %1 still past the threshold").arg(m.regionName);
    }
    return m;
}

IncidentMetrics measureBundle(const bundle::Bundle &b)
{
    const qint64 window = (b.header.toMs - b.header.fromMs) / 1000 + 3600;
    HealthTimeline history(int(std::clamp<qint64>(window, 86400, 31 * 86400)));
    loadHealth(b.samples, &history);
    return measureIncident(IncidentTimeline::entriesOf(b.events), history, thresholdsOf(b.header.thresholds));
}

QMap<QString, double> thresholdMap(const VerdictThresholds &t)
{
    return { { QStringLiteral("degraded_packet_loss"), t.degradedPacketLoss },
        { QStringLiteral("down_packet_loss"), t.downPacketLoss },
        { QStringLiteral("degraded_failure_ratio"), t.degradedFailureRatio },
        { QStringLiteral("down_failure_ratio"), t.downFailureRatio },
        { QStringLiteral("degraded_rtt_p95_ms"), t.degradedRttP95Ms },
        { QStringLiteral("min_finished_builds"), double(t.minFinishedBuilds) },
        { QStringLiteral("hysteresis"), t.hysteresis }, { QStringLiteral("hold_s"), double(t.holdSeconds) },
        { QStringLiteral("window_s"), double(t.windowSeconds) },
        { QStringLiteral("no_data_after_s"), double(t.noDataAfterSeconds) } };
}

VerdictThresholds thresholdsOf(const QMap<QString, double> &named)
{
    const VerdictThresholds d;
    VerdictThresholds t;
    auto take = [&named](const char *name, double fallback, double lo, double hi) {
        const double v = named.value(QLatin1String(name), fallback);
        return v >= lo && v <= hi ? v : fallback;
    };
    t.degradedPacketLoss = take("degraded_packet_loss", d.degradedPacketLoss, 0.001, 1);
    t.downPacketLoss = take("down_packet_loss", d.downPacketLoss, 0.001, 1);
    t.degradedFailureRatio = take("degraded_failure_ratio", d.degradedFailureRatio, 0.001, 1);
    t.downFailureRatio = take("down_failure_ratio", d.downFailureRatio, 0.001, 1);
    t.degradedRttP95Ms = take("degraded_rtt_p95_ms", d.degradedRttP95Ms, 1, 60000);
    t.minFinishedBuilds = int(take("min_finished_builds", d.minFinishedBuilds, 1, 10000));
    t.hysteresis = take("hysteresis", d.hysteresis, 0.1, 1);
    t.holdSeconds = int(take("hold_s", d.holdSeconds, 0, 3600));
    t.windowSeconds = int(take("window_s", d.windowSeconds, 10, 3600));
    t.noDataAfterSeconds = int(take("no_data_after_s", d.noDataAfterSeconds, 1, 3600));
    if (t.downPacketLoss <= t.degradedPacketLoss || t.downFailureRatio <= t.degradedFailureRatio)
        return d;
    return t;
}

void loadHealth(const QList<bundle::Samples> &samples, HealthTimeline *history)
{
    std::array<float, bundle::kColumnCount> values {};
    for (const bundle::Samples &block : samples) {
        for (int i = 0; i < block.seconds(); ++i) {
            for (int c = 0; c < bundle::kColumnCount; ++c)
                values[std::size_t(c)] = block.columns[std::size_t(c)][std::size_t(i)];
            history->recordSecond(block.region, block.fromSecond + i, values);
        }
    }
}

} // namespace fleet
