#include "healthverdict.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fleet {

QString wireName(Verdict verdict)
{
    switch (verdict) {
    case Verdict::Healthy:
        return QStringLiteral("healthy");
    case Verdict::Degraded:
        return QStringLiteral("degraded");
    case Verdict::Down:
        return QStringLiteral("down");
    case Verdict::NoData:
        break;
    }
    return QStringLiteral("no data");
}

double RegionStats::successRate() const
{
    const int finished = buildsSucceeded + buildsFailed;
    return finished > 0 ? double(buildsSucceeded) / finished : std::numeric_limits<double>::quiet_NaN();
}

int RegionStats::infrastructureFailures() const
{
    return failures[int(FailureReason::ETimedOut)] + failures[int(FailureReason::EConnReset)]
        + failures[int(FailureReason::EHostUnreach)];
}

double RegionStats::infrastructureFailureLowerBound() const
{
    const double n = finishedBuilds();
    if (n <= 0)
        return 0;
    // The per-reason counts and the finished count come from different seconds' rounding: never above 1.
    const double p = std::min(1.0, infrastructureFailures() / n);
    constexpr double z = 1.96;
    const double centre = p + z * z / (2 * n);
    const double spread = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    return std::max(0.0, (centre - spread) / (1 + z * z / n));
}

RegionStats RegionStats::fromHistory(const HealthTimeline &history, int region, qint64 nowSecond, int windowSeconds)
{
    RegionStats s;
    s.windowMinutes = windowSeconds / 60.0;
    double lossSum = 0;
    double started = 0, succeeded = 0, failed = 0;
    double failures[kFailureReasonCount] = {};
    for (qint64 t = nowSecond - windowSeconds + 1; t <= nowSecond; ++t) {
        const float loss = history.value(region, HealthTimeline::PacketLoss, t);
        if (std::isnan(loss))
            continue;
        ++s.samples;
        lossSum += loss;
        s.rttP95Ms = std::max(s.rttP95Ms, double(history.value(region, HealthTimeline::RttP95, t)));
        started += history.value(region, HealthTimeline::BuildsStarted, t);
        succeeded += history.value(region, HealthTimeline::BuildsSucceeded, t);
        failed += history.value(region, HealthTimeline::BuildsFailed, t);
        for (int f = 0; f < kFailureReasonCount; ++f)
            failures[f] += history.value(region, HealthTimeline::Metric(HealthTimeline::FailuresETimedOut + f), t);
        s.queueDepth = history.value(region, HealthTimeline::QueueDepth, t);
        s.waitP95Seconds = std::max(s.waitP95Seconds, double(history.value(region, HealthTimeline::WaitP95, t)));
    }
    if (s.samples > 0)
        s.packetLoss = lossSum / s.samples;
    s.buildsStarted = int(std::lround(started));
    s.buildsSucceeded = int(std::lround(succeeded));
    s.buildsFailed = int(std::lround(failed));
    for (int f = 0; f < kFailureReasonCount; ++f)
        s.failures[f] = int(std::lround(failures[f]));
    return s;
}

VerdictTracker::VerdictTracker(VerdictThresholds thresholds)
    : m_thresholds(thresholds)
{
}

Verdict VerdictTracker::classify(const RegionStats &stats, double scale) const
{
    if (stats.samples == 0)
        return Verdict::NoData;
    const VerdictThresholds &t = m_thresholds;
    const double failureRatio
        = stats.finishedBuilds() >= t.minFinishedBuilds ? stats.infrastructureFailureLowerBound() : 0;
    if (stats.packetLoss >= t.downPacketLoss * scale || failureRatio >= t.downFailureRatio * scale)
        return Verdict::Down;
    if (stats.packetLoss >= t.degradedPacketLoss * scale || failureRatio >= t.degradedFailureRatio * scale
        || stats.rttP95Ms >= t.degradedRttP95Ms * scale)
        return Verdict::Degraded;
    return Verdict::Healthy;
}

QString VerdictTracker::describe(const RegionStats &stats)
{
    if (stats.samples == 0)
        return QStringLiteral("no health data");
    QStringList parts;
    parts << QStringLiteral("packet loss %1%").arg(stats.packetLoss * 100, 0, 'f', stats.packetLoss < 0.1 ? 1 : 0);
    // The failure reason that dominates, per minute.
    int top = -1;
    for (int f = 0; f < kFailureReasonCount; ++f) {
        if (stats.failures[f] > 0 && (top < 0 || stats.failures[f] > stats.failures[top]))
            top = f;
    }
    if (top >= 0)
        parts << QStringLiteral("%1 %2/min")
                     // In the words of the failures chart's legend: the errno names, and "build errors" (not the
                     // wire's "build_error") for builds that failed on their own.
                     .arg(FailureReason(top) == FailureReason::BuildError ? QStringLiteral("build errors")
                                                                          : wireName(FailureReason(top)).toString())
                     .arg(std::lround(stats.failuresPerMinute(FailureReason(top))));
    else
        parts << QStringLiteral("no failures");
    if (stats.rttP95Ms > 0)
        parts << QStringLiteral("RTT p95 %1 ms").arg(std::lround(stats.rttP95Ms));
    return parts.join(QLatin1String(", "));
}

bool VerdictTracker::update(const RegionStats &stats, qint64 nowSecond)
{
    const QString oldReason = m_reason;
    const Verdict oldVerdict = m_verdict;
    m_reason = describe(stats);
    Verdict wanted = classify(stats, 1.0);
    // The reason names what drove a verdict: the failure ratio is not among the figures above.
    if (stats.finishedBuilds() >= m_thresholds.minFinishedBuilds
        && stats.infrastructureFailureLowerBound() >= m_thresholds.degradedFailureRatio * m_thresholds.hysteresis)
        m_reason += QStringLiteral(", infrastructure failures %1% of %2 builds")
                        .arg(std::lround(100.0 * stats.infrastructureFailures() / stats.finishedBuilds()))
                        .arg(stats.finishedBuilds());
    // Hysteresis: a worse verdict stays while the metrics stay above threshold x hysteresis.
    if (m_verdict != Verdict::NoData && wanted != Verdict::NoData && int(wanted) < int(m_verdict)) {
        const Verdict sticky = classify(stats, m_thresholds.hysteresis);
        if (int(sticky) >= int(m_verdict))
            wanted = m_verdict;
    }
    if (m_first || wanted == Verdict::NoData || m_verdict == Verdict::NoData) {
        m_first = false;
        m_verdict = wanted;
        m_candidate = wanted;
        m_candidateSince = nowSecond;
    } else if (wanted == m_verdict) {
        m_candidate = wanted;
        m_candidateSince = nowSecond;
    } else {
        if (wanted != m_candidate) {
            m_candidate = wanted;
            m_candidateSince = nowSecond;
        }
        if (nowSecond - m_candidateSince >= m_thresholds.holdSeconds)
            m_verdict = wanted; // held long enough to be real
    }
    return m_verdict != oldVerdict || m_reason != oldReason;
}

} // namespace fleet
