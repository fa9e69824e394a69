#pragma once

#include "fleettypes.h"

#include <QPointF>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <array>
#include <vector>

namespace fleet {

// 24 hours (by default) of one-second health samples per region and metric, in ring buffers of fixed-size blocks
// (kBlockSeconds) allocated when a second in them is first written and released when the ring clears a whole block:
// at most regions x 16 metrics x seconds x 4 bytes (5.5 MB a region for 24 h), and only as much as has been
// recorded (a first sample costs one block per metric, not a whole day: allocating and filling 5.5 MB a region on
// the GUI thread was the console's longest start-up block, issue #22). Seconds with no sample are NaN: gaps stay
// gaps, never joined across, never read as zero.
class HealthTimeline
{
public:
    enum Metric {
        WorkersIdle,
        WorkersBusy,
        WorkersOffline,
        WorkersProvisioning,
        BuildsStarted,
        BuildsSucceeded,
        BuildsFailed,
        FailuresETimedOut,
        FailuresEConnReset,
        FailuresEHostUnreach,
        FailuresBuildError,
        RttP50,
        RttP95,
        PacketLoss,
        QueueDepth,
        WaitP95,
        MetricCount
    };

    explicit HealthTimeline(int seconds = 86400);

    int capacitySeconds() const { return m_seconds; }
    void clear();

    // A one-second sample (step_s 1) or a coarser bucket from a backfill: counters are spread evenly over the
    // bucket's seconds, gauges repeated. Samples older than the window are ignored; a bucket with samples == 0 is
    // a gap and writes nothing.
    void record(const QString &region, const HealthSample &sample);

    // One second of every metric as the timeline holds them (a recorded incident read back): NaN stays a gap.
    void recordSecond(const QString &region, qint64 second, const std::array<float, 16> &values);

    // The newest second recorded in any region (the history's "now"); 0 before anything.
    qint64 latestSecond() const { return m_latest; }
    qint64 oldestSecond() const { return m_latest ? m_latest - m_seconds + 1 : 0; }
    QStringList regions() const { return m_regionNames; }
    int regionIndex(const QString &region) const { return int(m_regionNames.indexOf(region)); }

    // NaN when nothing was recorded for that second (or it is outside the window).
    float value(int region, Metric metric, qint64 second) const;
    // Copies [fromSecond, toSecond] (clipped to the window; outside it, NaN) into `out`.
    void series(int region, Metric metric, qint64 fromSecond, qint64 toSecond, std::vector<float> *out) const;
    // M4-reduced to `columns` pixel columns, x in Unix seconds, NaN points marking gaps.
    std::vector<QPointF> reduced(int region, Metric metric, qint64 fromSecond, qint64 toSecond, int columns) const;

    std::size_t memoryBytes() const; // of the blocks allocated
    static constexpr int kBlockSeconds = 900;

    // Changes whenever data older than the newest two seconds is written or the timeline is cleared; new seconds
    // at the live edge leave it alone. Lets a chart reuse what it reduced before and recompute only the edge.
    quint64 revision() const { return m_revision; }

private:
    using Block = std::vector<float>; // kBlockSeconds floats, or empty: every second in it a gap
    int ensureRegion(const QString &region);
    void advanceTo(qint64 second);
    qint64 ringOf(qint64 second) const { return ((second % m_seconds) + m_seconds) % m_seconds; }
    Block &blockAt(int region, Metric metric, qint64 ring)
    {
        return m_blocks[std::size_t(region)]
                       [std::size_t(metric) * std::size_t(m_blocksPerRing) + std::size_t(ring / kBlockSeconds)];
    }
    const Block &blockAt(int region, Metric metric, qint64 ring) const
    {
        return const_cast<HealthTimeline *>(this)->blockAt(region, metric, ring);
    }
    float *slot(int region, Metric metric, qint64 second); // allocates its block
    // Calls f(ring, count) for the contiguous stretches of the ring (never crossing a block) that hold
    // [from, to] (from <= to, at most m_seconds apart); `offset` of each stretch from `from` is passed too.
    template <typename F> void forStretches(qint64 from, qint64 to, F f) const
    {
        for (qint64 s = from; s <= to;) {
            const qint64 ring = ringOf(s);
            const qint64 blockEnd = std::min<qint64>((ring / kBlockSeconds + 1) * kBlockSeconds, m_seconds);
            const qint64 n = std::min(to - s + 1, blockEnd - ring);
            f(ring, n, s - from);
            s += n;
        }
    }

    int m_seconds;
    int m_blocksPerRing;
    qint64 m_latest = 0;
    quint64 m_revision = 0;
    QStringList m_regionNames;
    std::vector<std::vector<Block>> m_blocks; // per region: metric-major, m_blocksPerRing blocks per metric
};

// M4 reduction of one timeline series for a chart, with columns aligned to absolute time (column k holds the seconds
// [k * step, (k + 1) * step)) and cached: while the window follows the live edge, only the newest columns are
// reduced again; anything written into the past (HealthTimeline::revision()) or a new column width starts over.
// The result is what reduced() gives for the aligned window: first, min, max and last of each run per column, one
// NaN point where a gap starts.
class TimelineReducer
{
public:
    // x in Unix seconds. `columns` is the pixel width; the step is the whole number of seconds per column.
    const std::vector<QPointF> &reduce(const HealthTimeline &timeline, int region, HealthTimeline::Metric metric,
        qint64 fromSecond, qint64 toSecond, int columns);
    void reset();
    int columnsReducedLastTime() const { return m_lastRecomputed; } // for tests and benchmarks

private:
    struct Column
    {
        qint64 index;
        std::size_t begin; // into m_points
        std::size_t end;
        bool endsInGap; // state after the column, for the next one
        bool anyOutput;
    };

    int m_region = -1;
    HealthTimeline::Metric m_metric = HealthTimeline::MetricCount;
    qint64 m_step = 0;
    quint64 m_revision = 0;
    qint64 m_latestSeen = 0;
    std::vector<Column> m_columns;
    std::vector<QPointF> m_points;
    std::vector<QPointF> m_out;
    std::vector<float> m_buffer;
    int m_lastRecomputed = 0;
};

} // namespace fleet
