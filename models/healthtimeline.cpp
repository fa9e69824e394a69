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
{
}

void HealthTimeline::clear()
{
    m_latest = 0;
    m_regionNames.clear();
    m_data.clear();
}

int HealthTimeline::ensureRegion(const QString &region)
{
    int index = int(m_regionNames.indexOf(region));
    if (index < 0) {
        index = int(m_regionNames.size());
        m_regionNames << region;
        m_data.emplace_back(std::size_t(MetricCount) * std::size_t(m_seconds), kGap);
    }
    return index;
}

float *HealthTimeline::slot(int region, Metric metric, qint64 second)
{
    const auto ring = std::size_t(((second % m_seconds) + m_seconds) % m_seconds);
    return &m_data[std::size_t(region)][std::size_t(metric) * std::size_t(m_seconds) + ring];
}

void HealthTimeline::advanceTo(qint64 second)
{
    if (second <= m_latest)
        return;
    // Seconds between the old newest and this one have no data yet: clear what the ring held for them.
    const qint64 from = m_latest == 0 ? second - m_seconds + 1 : std::max(m_latest + 1, second - m_seconds + 1);
    for (std::size_t r = 0; r < m_data.size(); ++r) {
        for (int m = 0; m < MetricCount; ++m) {
            for (qint64 s = from; s <= second; ++s)
                *slot(int(r), Metric(m), s) = kGap;
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

float HealthTimeline::value(int region, Metric metric, qint64 second) const
{
    if (region < 0 || region >= int(m_data.size()) || second > m_latest || second <= m_latest - m_seconds)
        return kGap;
    return const_cast<HealthTimeline *>(this)->slot(region, metric, second)[0];
}

void HealthTimeline::series(
    int region, Metric metric, qint64 fromSecond, qint64 toSecond, std::vector<float> *out) const
{
    out->assign(std::size_t(std::max<qint64>(0, toSecond - fromSecond + 1)), kGap);
    if (region < 0 || region >= int(m_data.size()))
        return;
    const qint64 lo = std::max(fromSecond, m_latest - m_seconds + 1);
    const qint64 hi = std::min(toSecond, m_latest);
    const float *base = m_data[std::size_t(region)].data() + std::size_t(metric) * std::size_t(m_seconds);
    for (qint64 s = lo; s <= hi;) {
        // Copy contiguous stretches of the ring at once.
        const qint64 ring = ((s % m_seconds) + m_seconds) % m_seconds;
        const qint64 n = std::min(hi - s + 1, m_seconds - ring);
        std::copy(base + ring, base + ring + n, out->begin() + (s - fromSecond));
        s += n;
    }
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
    return m_data.size() * std::size_t(MetricCount) * std::size_t(m_seconds) * sizeof(float);
}

} // namespace fleet
