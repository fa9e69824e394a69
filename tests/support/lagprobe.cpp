#include "lagprobe.h"

#include <QByteArray>

#include <algorithm>
#include <cstdlib>

#include <fcntl.h>
#include <unistd.h>

LagProbe::LagProbe(int intervalMs, QObject *parent)
    : QObject(parent)
    , m_intervalMs(intervalMs)
{
    // Opened on this thread: thread-self names the thread that opens it.
    m_schedstat = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &LagProbe::tick);
    m_clock.start();
    m_lastRunQueueNs = runQueueNs();
    m_timer.start();
}

LagProbe::~LagProbe()
{
    if (m_schedstat >= 0)
        ::close(m_schedstat);
}

qint64 LagProbe::runQueueNs() const
{
    if (m_schedstat < 0)
        return 0;
    char buf[128];
    const ssize_t n = ::pread(m_schedstat, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    // "<ns on a core> <ns waiting on the run queue> <time slices>"; read every 10 ms, so no allocation
    char *rest = nullptr;
    std::strtoll(buf, &rest, 10);
    return std::strtoll(rest, nullptr, 10);
}

void LagProbe::tick()
{
    const qint64 now = m_clock.nsecsElapsed();
    const qint64 runQueue = runQueueNs();
    if (m_lastNs) {
        const double lateMs = std::max(0.0, double(now - m_lastNs) / 1e6 - m_intervalMs);
        const double waitedMs = double(runQueue - m_lastRunQueueNs) / 1e6;
        ++m_samples;
        m_maxMs = std::max(m_maxMs, lateMs);
        m_blockedMaxMs = std::max(m_blockedMaxMs, std::max(0.0, lateMs - waitedMs));
        ++m_histogram[std::min<size_t>(size_t(lateMs * 2), m_histogram.size() - 1)];
    }
    m_lastNs = now;
    m_lastRunQueueNs = runQueue;
}

LagProbe::Figures LagProbe::figures() const
{
    Figures f;
    f.samples = m_samples;
    f.maxMs = m_maxMs;
    f.blockedMaxMs = m_blockedMaxMs;
    f.runQueueKnown = m_schedstat >= 0;
    const auto quantile = [this](double q) {
        const int wanted = int(q * m_samples);
        int seen = 0;
        for (size_t i = 0; i < m_histogram.size(); ++i) {
            seen += m_histogram[i];
            if (seen > wanted)
                return (double(i) + 1) / 2; // the bucket's upper end
        }
        return m_maxMs;
    };
    if (m_samples) {
        f.p50Ms = std::min(quantile(0.5), m_maxMs);
        f.p99Ms = std::min(quantile(0.99), m_maxMs);
    }
    return f;
}

void LagProbe::reset()
{
    m_samples = 0;
    m_maxMs = m_blockedMaxMs = 0;
    m_histogram.fill(0);
    m_lastNs = 0;
}

QByteArray LagProbe::toJson(const Figures &f)
{
    return QByteArrayLiteral("{\"samples\":") + QByteArray::number(f.samples) + ",\"p50_ms\":"
        + QByteArray::number(f.p50Ms, 'f', 1) + ",\"p99_ms\":" + QByteArray::number(f.p99Ms, 'f', 1) + ",\"max_ms\":"
        + QByteArray::number(f.maxMs, 'f', 1) + ",\"blocked_max_ms\":" + QByteArray::number(f.blockedMaxMs, 'f', 1)
        + ",\"run_queue_known\":" + (f.runQueueKnown ? "true" : "false") + '}';
}
