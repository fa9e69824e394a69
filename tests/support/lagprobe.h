#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <array>

// Test and benchmark fixture: how long the thread it lives on (the GUI thread) goes without handling its events.
// A timer asks to run every `intervalMs`; each tick's lateness is how long the event loop was held up. The kernel's
// run-queue wait of the thread over the same gap (/proc/thread-self/schedstat) is subtracted for `blockedMaxMs`:
// a thread that was ready but not given a core (two cores, the simulator, the compiler of the next test) was not
// blocked by the console. Where the kernel does not say, blocked equals late and `runQueueKnown` is false.
class LagProbe : public QObject
{
    Q_OBJECT

public:
    explicit LagProbe(int intervalMs = 10, QObject *parent = nullptr);
    ~LagProbe() override;

    struct Figures
    {
        int samples = 0;
        double p50Ms = 0;
        double p99Ms = 0;
        double maxMs = 0; // the longest lateness, wall clock
        double blockedMaxMs = 0; // the longest lateness less the thread's run-queue wait over the same gap
        bool runQueueKnown = false;
    };
    Figures figures() const;
    void reset();
    // {"samples":..,"p50_ms":..,"p99_ms":..,"max_ms":..,"blocked_max_ms":..,"run_queue_known":..}
    static QByteArray toJson(const Figures &f);

private:
    void tick();
    qint64 runQueueNs() const;

    QTimer m_timer;
    QElapsedTimer m_clock;
    int m_intervalMs;
    int m_schedstat = -1;
    qint64 m_lastNs = 0;
    qint64 m_lastRunQueueNs = 0;
    int m_samples = 0;
    double m_maxMs = 0;
    double m_blockedMaxMs = 0;
    std::array<int, 2001> m_histogram {}; // lateness in 0.5 ms buckets up to 1 s; the last one holds the rest
};
