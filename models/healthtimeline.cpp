#include "healthtimeline.h"

#include "m4.h"

#include <cmath>
#include <limits>

namespace fleet {

namespace {

constexpr float kGap = std::numeric_limits<float>::quiet_NaN();

} // namespace

HealthTimeline::HealthTimeline(int seconds)
    : m_seconds(std::max(seconds, 60))
    , m_blocksPerRing((m_seconds + kBlockSeconds - 1) / kBlockSeconds)
{
}

void HealthTimeline::clear()
{
    ++m_revision;
    m_latest = 0;
    m_regionNames.clear();
    m_blocks.clear();
}

int HealthTimeline::ensureRegion(const QString &region)
{
    int index = int(m_regionNames.indexOf(region));
    if (index < 0) {
        index = int(m_regionNames.size());
        m_regionNames << region;
        m_blocks.emplace_back(std::size_t(MetricCount) * std::size_t(m_blocksPerRing)); // nothing allocated yet
    }
    return index;
}

float *HealthTimeline::slot(int region, Metric metric, qint64 second)
{
    const qint64 ring = ringOf(second);
    Block &block = blockAt(region, metric, ring);
    if (block.empty())
        block.assign(std::size_t(kBlockSeconds), kGap);
    return &block[std::size_t(ring % kBlockSeconds)];
}

void HealthTimeline::advanceTo(qint64 second)
{
    if (second <= m_latest)
        return;
    // Seconds between the old newest and this one have no data yet: clear what the ring held for them (a block
    // cleared whole is released). Before the first second nothing is allocated.
    if (m_latest > 0) {
        const qint64 from = std::max(m_latest + 1, second - m_seconds + 1);
        for (std::size_t r = 0; r < m_blocks.size(); ++r) {
            for (int m = 0; m < MetricCount; ++m) {
                forStretches(from, second, [&](qint64 ring, qint64 n, qint64) {
                    Block &block = blockAt(int(r), Metric(m), ring);
                    if (block.empty())
                        return;
                    const qint64 at = ring % kBlockSeconds;
                    if (n >= std::min<qint64>(kBlockSeconds, m_seconds - (ring - at)))
                        Block().swap(block);
                    else
                        std::fill(block.begin() + at, block.begin() + at + n, kGap);
                });
            }
        }
    }
    m_latest = second;
}

void HealthTimeline::record(const QString &region, const HealthSample &sample)
{
    if (sample.samples <= 0 || sample.time <= 0)
        return;
    const int r = ensureRegion(region);
    const int step = std::max(1, sample.stepSeconds);
    const qint64 first = sample.time / 1000;
    if (first < m_latest - 1)
        ++m_revision; // a write into the past (a backfill): cached reductions of it are out of date
    advanceTo(first + step - 1);
    const double perSecond = 1.0 / step;
    const float values[MetricCount] = {
        float(sample.workersByState[int(WorkerState::Idle)]),
        float(sample.workersByState[int(WorkerState::Busy)]),
        float(sample.workersByState[int(WorkerState::Offline)]),
        float(sample.workersByState[int(WorkerState::Provisioning)]),
        float(sample.buildsStarted * perSecond),
        float(sample.buildsSucceeded * perSecond),
        float(sample.buildsFailed * perSecond),
        float(sample.failures[int(FailureReason::ETimedOut)] * perSecond),
        float(sample.failures[int(FailureReason::EConnReset)] * perSecond),
        float(sample.failures[int(FailureReason::EHostUnreach)] * perSecond),
        float(sample.failures[int(FailureReason::BuildError)] * perSecond),
        float(sample.rttP50Ms),
        float(sample.rttP95Ms),
        float(sample.packetLoss),
        float(sample.queueDepth),
        float(sample.waitP95Seconds),
    };
    for (qint64 s = first; s < first + step; ++s) {
        if (s <= m_latest - m_seconds)
            continue; // older than the window
        for (int m = 0; m < MetricCount; ++m)
            *slot(r, Metric(m), s) = values[m];
    }
}

void HealthTimeline::recordSecond(const QString &region, qint64 second, const std::array<float, 16> &values)
{
    static_assert(MetricCount == 16);
    if (second <= 0 || std::all_of(values.begin(), values.end(), [](float v) { return std::isnan(v); }))
        return;
    const int r = ensureRegion(region);
    if (second < m_latest - 1)
        ++m_revision;
    advanceTo(second);
    if (second <= m_latest - m_seconds)
        return;
    for (int m = 0; m < MetricCount; ++m)
        *slot(r, Metric(m), second) = values[std::size_t(m)];
}

float HealthTimeline::value(int region, Metric metric, qint64 second) const
{
    if (region < 0 || region >= int(m_blocks.size()) || second > m_latest || second <= m_latest - m_seconds)
        return kGap;
    const qint64 ring = ringOf(second);
    const Block &block = blockAt(region, metric, ring);
    return block.empty() ? kGap : block[std::size_t(ring % kBlockSeconds)];
}

void HealthTimeline::series(
    int region, Metric metric, qint64 fromSecond, qint64 toSecond, std::vector<float> *out) const
{
    out->assign(std::size_t(std::max<qint64>(0, toSecond - fromSecond + 1)), kGap);
    if (region < 0 || region >= int(m_blocks.size()))
        return;
    const qint64 lo = std::max(fromSecond, m_latest - m_seconds + 1);
    const qint64 hi = std::min(toSecond, m_latest);
    if (lo > hi)
        return;
    // Contiguous stretches of each block at once; a block never written stays NaN.
    forStretches(lo, hi, [&](qint64 ring, qint64 n, qint64 offset) {
        const Block &block = blockAt(region, metric, ring);
        if (block.empty())
            return;
        const auto at = block.begin() + (ring % kBlockSeconds);
        std::copy(at, at + n, out->begin() + (lo - fromSecond) + offset);
    });
}

std::vector<QPointF> HealthTimeline::reduced(
    int region, Metric metric, qint64 fromSecond, qint64 toSecond, int columns) const
{
    thread_local std::vector<float> buffer;
    series(region, metric, fromSecond, toSecond, &buffer);
    return reduceM4(buffer.data(), int(buffer.size()), double(fromSecond), 1.0, columns);
}

std::size_t HealthTimeline::memoryBytes() const
{
    std::size_t bytes = 0;
    for (const auto &region : m_blocks)
        for (const Block &block : region)
            bytes += block.capacity() * sizeof(float);
    return bytes;
}

void TimelineReducer::reset()
{
    m_columns.clear();
    m_points.clear();
    m_region = -1;
}

const std::vector<QPointF> &TimelineReducer::reduce(const HealthTimeline &timeline, int region,
    HealthTimeline::Metric metric, qint64 fromSecond, qint64 toSecond, int columns)
{
    m_out.clear();
    m_lastRecomputed = 0;
    if (region < 0 || toSecond < fromSecond || columns <= 0)
        return m_out;
    const qint64 span = toSecond - fromSecond + 1;
    const qint64 step = std::max<qint64>(1, (span + columns - 1) / columns);
    auto floorDiv = [](qint64 a, qint64 b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    const qint64 firstColumn = floorDiv(fromSecond, step);
    const qint64 lastColumn = floorDiv(toSecond, step);
    if (region != m_region || metric != m_metric || step != m_step || timeline.revision() != m_revision
        || (!m_columns.empty() && (firstColumn < m_columns.front().index || lastColumn < m_columns.back().index))) {
        m_columns.clear();
        m_points.clear();
        m_region = region;
        m_metric = metric;
        m_step = step;
        m_revision = timeline.revision();
    }
    // Columns left of the window go.
    std::size_t drop = 0;
    while (drop < m_columns.size() && m_columns[drop].index < firstColumn)
        ++drop;
    if (drop > 0) {
        const std::size_t shift = drop < m_columns.size() ? m_columns[drop].begin : m_points.size();
        m_points.erase(m_points.begin(), m_points.begin() + std::ptrdiff_t(shift));
        m_columns.erase(m_columns.begin(), m_columns.begin() + std::ptrdiff_t(drop));
        for (Column &c : m_columns) {
            c.begin -= shift;
            c.end -= shift;
        }
    }
    // Columns that held the live edge when they were reduced may have changed since: reduce them again.
    const qint64 edgeColumn = floorDiv(m_latestSeen - 1, step);
    while (!m_columns.empty() && m_columns.back().index >= edgeColumn) {
        m_points.resize(m_columns.back().begin);
        m_columns.pop_back();
    }
    m_latestSeen = timeline.latestSecond();

    const double nan = std::numeric_limits<double>::quiet_NaN();
    bool inGap = m_columns.empty() ? false : m_columns.back().endsInGap;
    bool anyOutput = m_columns.empty() ? false : m_columns.back().anyOutput;
    for (qint64 k = m_columns.empty() ? firstColumn : m_columns.back().index + 1; k <= lastColumn; ++k) {
        ++m_lastRecomputed;
        const qint64 t0 = k * step;
        timeline.series(region, metric, t0, t0 + step - 1, &m_buffer);
        const float *v = m_buffer.data();
        Column column { k, m_points.size(), 0, false, false };
        int runStart = -1, runMin = -1, runMax = -1, last = -1;
        auto flush = [&] {
            if (runStart < 0)
                return;
            int order[4] = { runStart, runMin, runMax, last };
            if (order[1] > order[2])
                std::swap(order[1], order[2]);
            int previous = -1;
            for (int i : order) {
                if (i != previous)
                    m_points.emplace_back(double(t0 + i), double(v[i]));
                previous = i;
            }
            anyOutput = true;
            runStart = -1;
        };
        for (int i = 0; i < int(step); ++i) {
            if (std::isnan(v[i])) {
                flush();
                if (!inGap && anyOutput)
                    m_points.emplace_back(double(t0 + i), nan); // a gap starts: the chart lifts its pen here
                inGap = true;
                continue;
            }
            inGap = false;
            if (runStart < 0) {
                runStart = runMin = runMax = i;
            } else {
                if (v[i] < v[runMin])
                    runMin = i;
                if (v[i] > v[runMax])
                    runMax = i;
            }
            last = i;
        }
        flush();
        column.end = m_points.size();
        column.endsInGap = inGap;
        column.anyOutput = anyOutput;
        m_columns.push_back(column);
    }
    m_out.assign(m_points.begin(), m_points.end());
    while (!m_out.empty() && std::isnan(m_out.front().y()))
        m_out.erase(m_out.begin());
    while (!m_out.empty() && std::isnan(m_out.back().y()))
        m_out.pop_back(); // where the data ends is not a gap
    return m_out;
}

} // namespace fleet
