#include "healthtimeline.h"
#include "healthverdict.h"
#include "m4.h"

#include <QRandomGenerator>
#include <QTest>

#include <cmath>
#include <limits>

using namespace fleet;

namespace {

HealthSample sample(qint64 second, double loss, int failed = 0, int succeeded = 10, int timeouts = 0)
{
    HealthSample s;
    s.time = second * 1000;
    s.samples = 1;
    s.packetLoss = loss;
    s.buildsFailed = failed;
    s.buildsSucceeded = succeeded;
    s.buildsStarted = failed + succeeded;
    s.failures[int(FailureReason::ETimedOut)] = timeouts;
    s.rttP95Ms = 50;
    return s;
}

// The M4 definition, computed the slow and obvious way: per column, each run of non-NaN values contributes its
// first, min, max and last points (in index order, without repeats); NaN between values is one gap point.
std::vector<QPointF> bruteForceM4(const std::vector<float> &v, double t0, int columns)
{
    std::vector<QPointF> out;
    const int n = int(v.size());
    std::vector<std::vector<int>> runs;
    std::vector<int> current;
    int currentColumn = -1;
    std::vector<int> gapsAfterRun; // index of the NaN that follows a run, or -1
    bool sawValue = false;
    for (int i = 0; i < n; ++i) {
        const int c = int(std::int64_t(i) * columns / n);
        if (std::isnan(v[i])) {
            if (!current.empty()) {
                runs.push_back(current);
                gapsAfterRun.push_back(-1);
                current.clear();
            }
            if (sawValue && (gapsAfterRun.empty() || gapsAfterRun.back() == -1) && (i == 0 || !std::isnan(v[i - 1])))
                gapsAfterRun.back() = i;
            currentColumn = -1;
            continue;
        }
        if (c != currentColumn && !current.empty()) {
            runs.push_back(current);
            gapsAfterRun.push_back(-1);
            current.clear();
        }
        currentColumn = c;
        current.push_back(i);
        sawValue = true;
    }
    if (!current.empty()) {
        runs.push_back(current);
        gapsAfterRun.push_back(-1);
    }
    for (std::size_t r = 0; r < runs.size(); ++r) {
        const auto &run = runs[r];
        int lo = run.front(), hi = run.front();
        for (int i : run) {
            if (v[i] < v[lo])
                lo = i;
            if (v[i] > v[hi])
                hi = i;
        }
        std::vector<int> picks { run.front(), std::min(lo, hi), std::max(lo, hi), run.back() };
        int previous = -1;
        for (int i : picks) {
            if (i != previous)
                out.emplace_back(t0 + i, double(v[i]));
            previous = i;
        }
        if (gapsAfterRun[r] >= 0 && r + 1 < runs.size())
            out.emplace_back(t0 + gapsAfterRun[r], std::numeric_limits<double>::quiet_NaN());
    }
    return out;
}

} // namespace

class TestHealthTimeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recordsAndReads();
    void gapsStayGaps();
    void ringWraps();
    void backfillBucketsSpread();
    void m4MatchesBruteForce_data();
    void m4MatchesBruteForce();
    void m4KeepsExtremes();
    void verdictHysteresisAndHold();
    void verdictNoDataAndReason();
    void cachedReductionMatchesAFreshOne();
};

namespace {

bool samePoints(const std::vector<QPointF> &a, const std::vector<QPointF> &b, QString *why)
{
    if (a.size() != b.size()) {
        *why = QStringLiteral("sizes %1 and %2").arg(a.size()).arg(b.size());
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        const bool nanA = std::isnan(a[i].y()), nanB = std::isnan(b[i].y());
        if (a[i].x() != b[i].x() || nanA != nanB || (!nanA && a[i].y() != b[i].y())) {
            *why = QStringLiteral("point %1: (%2, %3) vs (%4, %5)")
                       .arg(i)
                       .arg(a[i].x())
                       .arg(a[i].y())
                       .arg(b[i].x())
                       .arg(b[i].y());
            return false;
        }
    }
    return true;
}

} // namespace

void TestHealthTimeline::cachedReductionMatchesAFreshOne()
{
    // Following the live edge one second at a time, with gaps, the cached reducer gives exactly what a fresh one
    // gives, while reducing only the newest columns; a backfill into the past starts it over.
    HealthTimeline h(7200);
    QRandomGenerator rng(11);
    const qint64 t0 = 1'762'934'400;
    for (qint64 s = 0; s < 3600; ++s) {
        if (s % 500 < 20)
            continue; // gaps
        h.record(QStringLiteral("eu"), sample(t0 + s, rng.generateDouble()));
    }
    TimelineReducer cached;
    const int columns = 300; // 12 s a column for one hour
    for (qint64 s = 3600; s < 4200; ++s) {
        if (s % 97 >= 5) // short gaps at the live edge too
            h.record(QStringLiteral("eu"), sample(t0 + s, rng.generateDouble()));
        const qint64 to = t0 + s;
        const qint64 from = to - 3599;
        const std::vector<QPointF> a = cached.reduce(h, 0, HealthTimeline::PacketLoss, from, to, columns);
        TimelineReducer fresh;
        const std::vector<QPointF> b = fresh.reduce(h, 0, HealthTimeline::PacketLoss, from, to, columns);
        QString why;
        QVERIFY2(samePoints(a, b, &why), qPrintable(QStringLiteral("at %1: %2").arg(s).arg(why)));
        if (s > 3600)
            QVERIFY2(
                cached.columnsReducedLastTime() <= 3, qPrintable(QString::number(cached.columnsReducedLastTime())));
    }
    // The cached result really is M4 of the aligned window: the extremes of every column are in it.
    const qint64 to = h.latestSecond();
    const std::vector<QPointF> r = cached.reduce(h, 0, HealthTimeline::PacketLoss, to - 3599, to, columns);
    double maxSeen = 0;
    for (const QPointF &p : r)
        maxSeen = std::isnan(p.y()) ? maxSeen : std::max(maxSeen, p.y());
    double maxTrue = 0;
    for (qint64 s = to - 3599; s <= to; ++s) {
        const float v = h.value(0, HealthTimeline::PacketLoss, s);
        maxTrue = std::isnan(v) ? maxTrue : std::max(maxTrue, double(v));
    }
    QCOMPARE(maxSeen, maxTrue);

    // A backfill writes into the past: everything is reduced again, and the new value shows.
    h.record(QStringLiteral("eu"), sample(to - 1000, 5.0));
    const std::vector<QPointF> after = cached.reduce(h, 0, HealthTimeline::PacketLoss, to - 3599, to, columns);
    QVERIFY(cached.columnsReducedLastTime() >= columns - 1);
    bool found = false;
    for (const QPointF &p : after)
        found = found || p.y() == 5.0;
    QVERIFY(found);
}

void TestHealthTimeline::recordsAndReads()
{
    HealthTimeline h(3600);
    h.record(QStringLiteral("eu"), sample(1000, 0.1));
    QCOMPARE(h.latestSecond(), 1000);
    const int r = h.regionIndex(QStringLiteral("eu"));
    QCOMPARE(h.value(r, HealthTimeline::PacketLoss, 1000), 0.1f);
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 999)));
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 1001)));
    // One block per metric so far, not the hour (a day's worth of memory at the first sample was the console's
    // longest start-up block).
    QCOMPARE(h.memoryBytes(), std::size_t(HealthTimeline::MetricCount) * HealthTimeline::kBlockSeconds * sizeof(float));
    // A whole hour fills every block once; an hour's silence after it releases them all but the newest.
    for (qint64 s = 1001; s <= 4600; ++s)
        h.record(QStringLiteral("eu"), sample(s, 0.1));
    QCOMPARE(h.memoryBytes(), std::size_t(HealthTimeline::MetricCount) * 3600 * sizeof(float));
    QCOMPARE(h.value(r, HealthTimeline::PacketLoss, 1001), 0.1f);
    h.record(QStringLiteral("eu"), sample(4600 + 3600, 0.3));
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 4600 + 3599)));
    QCOMPARE(h.value(r, HealthTimeline::PacketLoss, 4600 + 3600), 0.3f);
    QVERIFY(h.memoryBytes()
        <= std::size_t(HealthTimeline::MetricCount) * 2 * HealthTimeline::kBlockSeconds * sizeof(float));
    std::vector<float> all;
    h.series(r, HealthTimeline::PacketLoss, 4600 + 1, 4600 + 3600, &all);
    QCOMPARE(int(std::count_if(all.begin(), all.end(), [](float v) { return !std::isnan(v); })), 1);
}

void TestHealthTimeline::gapsStayGaps()
{
    HealthTimeline h(3600);
    for (qint64 s = 100; s < 110; ++s)
        h.record(QStringLiteral("eu"), sample(s, 0.2));
    // The connection was lost for 20 s: nothing recorded, then data again.
    for (qint64 s = 130; s < 140; ++s)
        h.record(QStringLiteral("eu"), sample(s, 0.4));
    const int r = h.regionIndex(QStringLiteral("eu"));
    for (qint64 s = 110; s < 130; ++s)
        QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, s)));
    const auto points = h.reduced(r, HealthTimeline::PacketLoss, 100, 139, 40);
    int gaps = 0;
    for (const QPointF &p : points)
        gaps += std::isnan(p.y());
    QCOMPARE(gaps, 1); // drawn as a gap, not a line from 0.2 to 0.4
    // A second region that reports nothing meanwhile has gaps, not zeros.
    h.record(QStringLiteral("us"), sample(140, 0.01));
    QVERIFY(std::isnan(h.value(h.regionIndex(QStringLiteral("us")), HealthTimeline::PacketLoss, 139)));
}

void TestHealthTimeline::ringWraps()
{
    HealthTimeline h(60);
    for (qint64 s = 1; s <= 200; ++s)
        h.record(QStringLiteral("eu"), sample(s, s / 1000.0));
    const int r = h.regionIndex(QStringLiteral("eu"));
    QCOMPARE(h.latestSecond(), 200);
    QCOMPARE(h.oldestSecond(), 141);
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 140))); // wrapped away
    for (qint64 s = 141; s <= 200; ++s)
        QCOMPARE(h.value(r, HealthTimeline::PacketLoss, s), float(s / 1000.0));
    std::vector<float> out;
    h.series(r, HealthTimeline::PacketLoss, 130, 200, &out);
    QCOMPARE(out.size(), std::size_t(71));
    QVERIFY(std::isnan(out[0]));
    QCOMPARE(out[11], float(141 / 1000.0));
    QCOMPARE(out.back(), float(0.2));
    // A jump forward clears what the ring held for the skipped seconds.
    h.record(QStringLiteral("eu"), sample(230, 0.5));
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 229)));
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 211)));
    QCOMPARE(h.value(r, HealthTimeline::PacketLoss, 200), float(0.2));
}

void TestHealthTimeline::backfillBucketsSpread()
{
    HealthTimeline h(3600);
    HealthSample bucket = sample(600, 0.3, 60, 0, 60);
    bucket.stepSeconds = 60;
    bucket.samples = 60;
    h.record(QStringLiteral("eu"), bucket);
    const int r = h.regionIndex(QStringLiteral("eu"));
    float failures = 0;
    for (qint64 s = 600; s < 660; ++s) {
        QCOMPARE(h.value(r, HealthTimeline::PacketLoss, s), 0.3f); // gauges repeat
        failures += h.value(r, HealthTimeline::FailuresETimedOut, s); // counters spread
    }
    QCOMPARE(qRound(failures), 60);
    HealthSample gap = bucket;
    gap.time = 700 * 1000;
    gap.samples = 0;
    h.record(QStringLiteral("eu"), gap);
    QVERIFY(std::isnan(h.value(r, HealthTimeline::PacketLoss, 700)));
}

void TestHealthTimeline::m4MatchesBruteForce_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("columns");
    QTest::addColumn<double>("gapShare");
    QTest::newRow("day to 1920") << 86400 << 1920 << 0.0;
    QTest::newRow("day with gaps") << 86400 << 1920 << 0.002;
    QTest::newRow("more columns than points") << 300 << 1920 << 0.05;
    QTest::newRow("odd sizes") << 9973 << 731 << 0.01;
    QTest::newRow("tiny") << 5 << 2 << 0.2;
}

void TestHealthTimeline::m4MatchesBruteForce()
{
    QFETCH(int, count);
    QFETCH(int, columns);
    QFETCH(double, gapShare);
    QRandomGenerator rng(1234);
    for (int round = 0; round < 5; ++round) {
        std::vector<float> v(static_cast<std::size_t>(count));
        bool inGap = false;
        float level = 10;
        for (float &x : v) {
            if (rng.generateDouble() < gapShare)
                inGap = !inGap; // gaps come in stretches
            level += float(rng.generateDouble() - 0.5);
            x = inGap ? std::numeric_limits<float>::quiet_NaN() : level;
        }
        const auto fast = reduceM4(v.data(), count, 1000.0, 1.0, columns);
        const auto slow = bruteForceM4(v, 1000.0, columns);
        QCOMPARE(fast.size(), slow.size());
        for (std::size_t i = 0; i < fast.size(); ++i) {
            QCOMPARE(fast[i].x(), slow[i].x());
            if (std::isnan(slow[i].y()))
                QVERIFY(std::isnan(fast[i].y()));
            else
                QCOMPARE(fast[i].y(), slow[i].y());
        }
        QVERIFY(fast.size() <= std::size_t(columns) * 4 + std::size_t(count) / 2);
    }
}

void TestHealthTimeline::m4KeepsExtremes()
{
    std::vector<float> v(86400, 1.0f);
    v[43210] = 99.0f; // a one-second spike must survive the reduction
    v[70000] = -5.0f;
    const auto points = reduceM4(v.data(), int(v.size()), 0, 1, 1920);
    double hi = -1e9, lo = 1e9;
    for (const QPointF &p : points) {
        hi = std::max(hi, p.y());
        lo = std::min(lo, p.y());
    }
    QCOMPARE(hi, 99.0);
    QCOMPARE(lo, -5.0);
    QVERIFY(points.size() <= 1920 * 4);
}

void TestHealthTimeline::verdictHysteresisAndHold()
{
    VerdictThresholds t; // degraded at 5 % loss, leave below 4 %, hold 30 s
    VerdictTracker tracker(t);
    RegionStats s;
    s.samples = 60;
    s.packetLoss = 0.01;
    s.buildsSucceeded = 100;
    tracker.update(s, 0);
    QCOMPARE(tracker.verdict(), Verdict::Healthy);
    s.packetLoss = 0.08;
    tracker.update(s, 1);
    QCOMPARE(tracker.verdict(), Verdict::Healthy); // not yet: must hold 30 s
    tracker.update(s, 20);
    QCOMPARE(tracker.verdict(), Verdict::Healthy);
    tracker.update(s, 31);
    QCOMPARE(tracker.verdict(), Verdict::Degraded);
    // Just under the threshold, but above threshold x hysteresis: stays degraded however long.
    s.packetLoss = 0.045;
    for (qint64 t2 = 32; t2 < 200; t2 += 10)
        tracker.update(s, t2);
    QCOMPARE(tracker.verdict(), Verdict::Degraded);
    // A brief dip below the hysteresis band does not flip it back...
    s.packetLoss = 0.01;
    tracker.update(s, 200);
    s.packetLoss = 0.06;
    tracker.update(s, 210);
    QCOMPARE(tracker.verdict(), Verdict::Degraded);
    // ...a sustained one does.
    s.packetLoss = 0.01;
    tracker.update(s, 220);
    tracker.update(s, 249);
    QCOMPARE(tracker.verdict(), Verdict::Degraded);
    tracker.update(s, 251);
    QCOMPARE(tracker.verdict(), Verdict::Healthy);
    // Infrastructure failures count too, once enough builds finished, by the ratio's lower confidence bound.
    const auto failing = [&s](int timeouts, int buildErrors, int succeeded) {
        s.failures = {};
        s.failures[int(FailureReason::ETimedOut)] = timeouts;
        s.failures[int(FailureReason::BuildError)] = buildErrors;
        s.buildsFailed = timeouts + buildErrors;
        s.buildsSucceeded = succeeded;
    };
    failing(95, 0, 5);
    QCOMPARE(tracker.classify(s, 1.0), Verdict::Down);
    failing(30, 0, 70);
    QCOMPARE(tracker.classify(s, 1.0), Verdict::Degraded);
    failing(3, 0, 0);
    QCOMPARE(tracker.classify(s, 1.0), Verdict::Healthy); // 3 builds prove nothing
    failing(1, 0, 5); // one timeout among six builds: 17%, but its lower bound is 3%
    QCOMPARE(tracker.classify(s, 1.0), Verdict::Healthy);
    failing(0, 60, 40); // customers' own build errors, however many, are not the fleet's
    QCOMPARE(tracker.classify(s, 1.0), Verdict::Healthy);
}

void TestHealthTimeline::verdictNoDataAndReason()
{
    HealthTimeline h(3600);
    for (qint64 s = 1000; s < 1060; ++s)
        h.record(QStringLiteral("eu"), sample(s, 0.31, 1, 3, 1));
    const int r = h.regionIndex(QStringLiteral("eu"));
    const RegionStats stats = RegionStats::fromHistory(h, r, 1059, 60);
    QCOMPARE(stats.samples, 60);
    QCOMPARE(stats.failures[int(FailureReason::ETimedOut)], 60);
    QCOMPARE(stats.successRate(), 0.75);
    VerdictTracker tracker;
    tracker.update(stats, 1059);
    QCOMPARE(tracker.verdict(), Verdict::Degraded);
    // What drove it is named: here the loss and the share of builds the fleet failed.
    QCOMPARE(tracker.reason(),
        QStringLiteral("packet loss 31%, ETIMEDOUT 60/min, RTT p95 50 ms, infrastructure failures 25% of 240 builds"));
    // A build's own failure reads as the chart's legend says it, not as the wire's "build_error".
    RegionStats own = stats;
    own.failures = {};
    own.failures[int(FailureReason::BuildError)] = 120;
    QVERIFY2(VerdictTracker::describe(own).contains(QLatin1String("build errors 120/min")),
        qPrintable(VerdictTracker::describe(own)));
    // No samples in the window: "no data" at once, not "healthy" and not "zero".
    const RegionStats empty = RegionStats::fromHistory(h, r, 2000, 60);
    tracker.update(empty, 2000);
    QCOMPARE(tracker.verdict(), Verdict::NoData);
    QCOMPARE(wireName(tracker.verdict()), QStringLiteral("no data"));
}

QTEST_APPLESS_MAIN(TestHealthTimeline)
#include "tst_healthtimeline.moc"
