#pragma once

#include "healthtimeline.h"

#include <QString>

namespace fleet {

enum class Verdict { Healthy, Degraded, Down, NoData };
QString wireName(Verdict verdict); // "healthy", "degraded", "down", "no data"

// When a region counts as degraded or down. Leaving a worse verdict needs the metric below threshold x hysteresis;
// any change (except to and from "no data") must hold for holdSeconds before it shows, so a verdict does not flap.
struct VerdictThresholds
{
    double degradedPacketLoss = 0.05;
    double downPacketLoss = 0.5;
    // Infrastructure failures (ETIMEDOUT, ECONNRESET, EHOSTUNREACH) per finished build in the window, judged by the
    // ratio's 95% lower confidence bound (Wilson): a customer's failing build is not the fleet's fault, and one or
    // two failures among a handful of builds prove nothing (issue #21).
    double degradedFailureRatio = 0.15;
    double downFailureRatio = 0.8; // most builds fail: the region is effectively unusable
    double degradedRttP95Ms = 400;
    int minFinishedBuilds = 5; // fewer than this in the window: the failure ratio is not judged
    double hysteresis = 0.8;
    int holdSeconds = 30;
    int windowSeconds = 60;
    int noDataAfterSeconds = 30;
};

// A region's recent health, aggregated from the history over the verdict window.
struct RegionStats
{
    int samples = 0; // seconds with data in the window
    double packetLoss = 0; // mean
    double rttP95Ms = 0; // max
    int buildsStarted = 0;
    int buildsSucceeded = 0;
    int buildsFailed = 0;
    FailureCounts failures {};
    double queueDepth = 0; // latest
    double waitP95Seconds = 0; // max
    double windowMinutes = 1;

    double successRate() const; // NaN with no finished builds
    int finishedBuilds() const { return buildsSucceeded + buildsFailed; }
    // Builds that failed because of the fleet (ETIMEDOUT, ECONNRESET, EHOSTUNREACH), not on their own.
    int infrastructureFailures() const;
    // The 95% lower confidence bound (Wilson score) of infrastructureFailures() / finishedBuilds(); 0 without
    // finished builds.
    double infrastructureFailureLowerBound() const;
    double failuresPerMinute(FailureReason reason) const { return failures[int(reason)] / windowMinutes; }

    static RegionStats fromHistory(const HealthTimeline &history, int region, qint64 nowSecond, int windowSeconds);
};

// The verdict of one region over time, with hysteresis and a hold time, and the reason in words.
class VerdictTracker
{
public:
    explicit VerdictTracker(VerdictThresholds thresholds = {});

    // Feeds the stats at `nowSecond`; returns true when the shown verdict or its reason changed.
    bool update(const RegionStats &stats, qint64 nowSecond);

    Verdict verdict() const { return m_verdict; }
    QString reason() const { return m_reason; }
    const VerdictThresholds &thresholds() const { return m_thresholds; }
    void setThresholds(const VerdictThresholds &thresholds) { m_thresholds = thresholds; }

    // The verdict these stats call for, with thresholds scaled by `scale` (1, or the hysteresis factor).
    Verdict classify(const RegionStats &stats, double scale) const;
    static QString describe(const RegionStats &stats);

private:
    VerdictThresholds m_thresholds;
    Verdict m_verdict = Verdict::NoData;
    QString m_reason;
    bool m_first = true;
    Verdict m_candidate = Verdict::NoData;
    qint64 m_candidateSince = 0;
};

} // namespace fleet
