#pragma once

// Times every event the main thread handles, for benchmarks that ask "what blocked the GUI thread?". Use it as the
// application class: HandlerTiming<QCoreApplication> or HandlerTiming<QApplication>. notify() runs for the events
// of every thread (Qt's HTTP thread included); only the main thread's are timed, and only the outermost handler
// (nested event loops count as part of their caller).
//
// To see inside the slow ones: FLEET_SLOW_HANDLERS=FILE writes each slow handler's start and end on CLOCK_MONOTONIC
// (ns) and its kind to FILE, one per line; record the benchmark with `perf record -k CLOCK_MONOTONIC -g` and keep
// the samples that fall inside those windows (scripts/slow-handler-stacks does that and folds their stacks).

#include <QElapsedTimer>
#include <QEvent>
#include <QHash>
#include <QString>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <vector>

template <typename App> class HandlerTiming : public App
{
public:
    using App::App;

    struct Kind
    {
        QString what; // "43 to QNetworkReplyHttpImpl in QNetworkAccessManager": event type, receiver, its parent
        int count = 0; // handlers of this kind that took at least `slowMs`
        double worstMs = 0;
        double worstCpuMs = 0;
    };

    bool notify(QObject *receiver, QEvent *event) override
    {
        if (QThread::currentThread() != this->thread() || m_depth > 0) {
            ++m_depth;
            const bool r = App::notify(receiver, event);
            --m_depth;
            return r;
        }
        QElapsedTimer t;
        t.start();
        const qint64 startNs = monotonicNs();
        const int type = event->type(); // the event may be gone afterwards
        const char *className = receiver->metaObject()->className();
        // A member timer has no parent: its object name says whose it is ("FleetStore frame").
        const QString parentName = receiver->parent() ? QLatin1String(receiver->parent()->metaObject()->className())
            : receiver->objectName().isEmpty()        ? QStringLiteral("-")
                                                      : QLatin1Char('\'') + receiver->objectName() + QLatin1Char('\'');
        const double cpu0 = threadCpuMs();
        ++m_depth;
        const bool r = App::notify(receiver, event);
        --m_depth;
        const double ms = double(t.nsecsElapsed()) / 1e6;
        if (ms >= slowMs || ms > longestMs) {
            const double cpu = threadCpuMs() - cpu0;
            const QString what = QStringLiteral("%1 to %2 in %3").arg(type).arg(QLatin1String(className), parentName);
            if (ms > longestMs) {
                longestMs = ms;
                longestCpuMs = cpu;
                longestWhat = what;
            }
            if (ms >= slowMs) {
                if (std::FILE *f = traceFile())
                    std::fprintf(f, "%lld %lld %s\n", static_cast<long long>(startNs),
                        static_cast<long long>(monotonicNs()), qPrintable(what));
                Kind &k = m_slow[what];
                k.what = what;
                ++k.count;
                k.worstMs = std::max(k.worstMs, ms);
                k.worstCpuMs = std::max(k.worstCpuMs, cpu);
            }
        }
        return r;
    }

    void reset()
    {
        longestMs = longestCpuMs = 0;
        longestWhat.clear();
        m_slow.clear();
    }

    // The kinds of slow handler, most frequent first.
    std::vector<Kind> slowKinds() const
    {
        std::vector<Kind> kinds;
        for (const Kind &k : m_slow)
            kinds.push_back(k);
        std::sort(kinds.begin(), kinds.end(), [](const Kind &a, const Kind &b) { return a.count > b.count; });
        return kinds;
    }

    static qint64 monotonicNs()
    {
        timespec ts {};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return qint64(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }

    static std::FILE *traceFile()
    {
        static std::FILE *file = [] {
            const QByteArray path = qgetenv("FLEET_SLOW_HANDLERS");
            std::FILE *f = path.isEmpty() ? nullptr : std::fopen(path.constData(), "w");
            if (f)
                std::setvbuf(f, nullptr, _IOLBF, 0);
            return f;
        }();
        return file;
    }

    static double threadCpuMs()
    {
        timespec ts {};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
    }

    double slowMs = 8; // a handler at least this long is counted by kind
    double longestMs = 0;
    double longestCpuMs = 0; // of which the thread ran; the rest it waited for a core
    QString longestWhat;

private:
    int m_depth = 0;
    QHash<QString, Kind> m_slow;
};
