// Chart frame benchmark (issue #5): 6 regions x 3 series x 24 h of one-second data on 1920-pixel-wide charts. One
// frame = one new second of data for every series, then a repaint of all six charts into an image. Compared in the
// same run: HealthChart (M4-reduced, one replace() per series), a naive Qt Charts chart fed every point, and
// QCustomPlot (with its own adaptive sampling). Prints the median and p95 frame times and the ratios; HealthChart's and
// QCustomPlot's frames alternate, and the figure is the median of the pairs' ratios (goal since issue #25: <= 0.5).
//
// The war-room frame (issue #14) is the same comparison at a 4K wall's size: six charts of 1260x1000 px (a 3x2 grid on
// 3840x2160), an hour in view, lines 3 px wide (HealthChart draws wide lines as square-capped segments; QCustomPlot
// gets its fast polyline hint, its quickest way to a wide line):
//
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_charts [--frames N]
//   QT_QPA_PLATFORM=offscreen build/release/bench/bench_charts --war-room [--frames N]

#include "healthchart.h"
#include "healthtimeline.h"
#include "theme.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QDateTimeAxis>
#include <QElapsedTimer>
#include <QLineSeries>
#include <QPainter>
#include <QValueAxis>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>

using namespace fleet;

namespace {

constexpr int kRegions = 6;
constexpr int kSeries = 3;
constexpr int kSeconds = 86400;
int kWidth = 1920;
int kHeight = 360;
int kSpan = kSeconds; // seconds in view
int kLineWidth = 1;
constexpr qint64 kT0 = 1'762'934'400;
const HealthTimeline::Metric kMetrics[kSeries]
    = { HealthTimeline::PacketLoss, HealthTimeline::RttP95, HealthTimeline::QueueDepth };

QString regionName(int r)
{
    return QStringLiteral("region-%1").arg(r);
}

HealthSample sampleAt(qint64 second, std::mt19937 &rng)
{
    std::normal_distribution<double> noise(0, 1);
    HealthSample s;
    s.time = second * 1000;
    s.samples = 1;
    const double phase = double(second % 86400) / 86400.0 * 6.283;
    s.packetLoss = std::max(0.0, 0.05 + 0.04 * std::sin(phase * 3) + 0.01 * noise(rng));
    s.rttP95Ms = 80 + 40 * std::sin(phase) + 5 * noise(rng);
    s.queueDepth = std::max(0, int(10 + 8 * std::sin(phase * 5) + 3 * noise(rng)));
    return s;
}

double value(const HealthSample &s, int series)
{
    return series == 0 ? s.packetLoss : series == 1 ? s.rttP95Ms : double(s.queueDepth);
}

struct Stats
{
    double median = 0, p95 = 0;
};

Stats stats(std::vector<double> ms)
{
    std::sort(ms.begin(), ms.end());
    return { ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 95 / 100)] };
}

Stats measure(int frames, const std::function<void(int)> &frame)
{
    std::vector<double> ms;
    frame(-1); // warm-up: first layout, caches
    for (int i = 0; i < frames; ++i) {
        QElapsedTimer t;
        t.start();
        frame(i);
        ms.push_back(double(t.nsecsElapsed()) / 1e6);
    }
    return stats(std::move(ms));
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    int frames = 30;
    QByteArray only; // --only healthchart|naive|qcustomplot: one contender, e.g. for a profiler
    for (int i = 1; i + 1 < argc; ++i) {
        if (qstrcmp(argv[i], "--frames") == 0)
            frames = std::max(3, atoi(argv[i + 1]));
        if (qstrcmp(argv[i], "--only") == 0)
            only = argv[i + 1];
    }
    for (int i = 1; i < argc; ++i) {
        if (qstrcmp(argv[i], "--war-room") == 0) {
            kWidth = 1260;
            kHeight = 1000;
            kSpan = 3600;
            kLineWidth = 3;
        }
        if (qstrcmp(argv[i], "--line-width") == 0 && i + 1 < argc)
            kLineWidth = std::clamp(atoi(argv[i + 1]), 1, 12);
    }
    auto runs = [&only](const char *name) { return only.isEmpty() || only == name; };
    Stats ours, naiveStats, qcp;
    Theme::dark().apply(&app);
    std::mt19937 rng(7);

    // The data: 24 h for 6 regions, plus the samples each frame adds (the same for all three contenders).
    HealthTimeline timeline(kSeconds);
    std::vector<std::vector<HealthSample>> history(kRegions);
    for (int r = 0; r < kRegions; ++r) {
        for (qint64 s = 0; s < kSeconds; ++s) {
            HealthSample h = sampleAt(kT0 + s, rng);
            timeline.record(regionName(r), h);
            history[std::size_t(r)].push_back(h);
        }
    }
    std::vector<std::vector<HealthSample>> next(kRegions);
    for (int r = 0; r < kRegions; ++r) {
        for (int f = 0; f < 2 * frames + 2; ++f)
            next[std::size_t(r)].push_back(sampleAt(kT0 + kSeconds + f, rng));
    }
    QImage target(kWidth, kHeight, QImage::Format_ARGB32_Premultiplied);
    std::printf("chart frame: %d regions x %d series x %d s (%d s in view) on %dx%d px, lines %d px, %d frames each\n",
        kRegions, kSeries, kSeconds, kSpan, kWidth, kHeight, kLineWidth, frames);

    // (1) HealthChart and (3) QCustomPlot are set up side by side and their frames alternate (ours, theirs, ours, ...):
    // this virtual machine's speed drifts by a third within seconds, so each pair's ratio is the figure; the medians
    // are printed too.
    HealthTimeline live = timeline;
    std::vector<std::unique_ptr<HealthChart>> charts;
    if (runs("healthchart")) {
        for (int r = 0; r < kRegions; ++r) {
            auto c = std::make_unique<HealthChart>(QStringLiteral("Region %1").arg(r), QString());
            c->setTimeline(&live);
            c->setRegion(regionName(r));
            QList<ChartSeries> series;
            for (int s = 0; s < kSeries; ++s)
                series.append({ kMetrics[s], QStringLiteral("s%1").arg(s), s, ChartSeries::Kind::Gauge, 1.0 });
            c->setSeries(series);
            c->resize(kWidth, kHeight);
            c->setSpanSeconds(kSpan);
            c->setLineWidth(kLineWidth);
            c->show();
            charts.push_back(std::move(c));
        }
    }
    auto ourFrame = [&](int f) {
        for (int r = 0; r < kRegions; ++r) {
            if (f >= 0)
                live.record(regionName(r), next[std::size_t(r)][std::size_t(f)]);
            charts[std::size_t(r)]->refresh();
            QPainter p(&target);
            charts[std::size_t(r)]->render(&p);
        }
    };
    std::vector<QCustomPlot *> plots;
    if (runs("qcustomplot")) {
        for (int r = 0; r < kRegions; ++r) {
            auto *plot = new QCustomPlot;
            plot->setNotAntialiasedElements(QCP::aeNone);
            plot->setAntialiasedElements(QCP::aePlottables);
            for (int s = 0; s < kSeries; ++s) {
                QCPGraph *g = plot->addGraph();
                QVector<double> xs, ys;
                xs.reserve(kSeconds);
                ys.reserve(kSeconds);
                for (const HealthSample &h : history[std::size_t(r)]) {
                    xs.append(double(h.time) / 1000.0);
                    ys.append(value(h, s));
                }
                g->setData(xs, ys, true);
                g->setAdaptiveSampling(true);
                g->setPen(QPen(Theme::dark().series[s], kLineWidth));
            }
            if (kLineWidth > 1) { // the same choices HealthChart makes for wide lines: fast polylines, no antialiasing
                plot->setPlottingHint(QCP::phFastPolylines, true);
                plot->setNotAntialiasedElements(QCP::aeAll);
            }
            plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerDateTime>(new QCPAxisTickerDateTime));
            plot->yAxis->setRange(0, 150);
            plot->resize(kWidth, kHeight);
            plot->show();
            plots.push_back(plot);
        }
    }
    auto theirFrame = [&](int f) {
        for (int r = 0; r < kRegions; ++r) {
            QCustomPlot *plot = plots[std::size_t(r)];
            if (f >= 0) {
                const HealthSample &h = next[std::size_t(r)][std::size_t(f)];
                for (int s = 0; s < kSeries; ++s) {
                    plot->graph(s)->addData(double(h.time) / 1000.0, value(h, s));
                    plot->graph(s)->data()->removeBefore(double(h.time) / 1000.0 - kSeconds + 1);
                }
            }
            const double last = plot->graph(0)->data()->at(plot->graph(0)->data()->size() - 1)->key;
            plot->xAxis->setRange(last - kSpan + 1, last);
            plot->replot(QCustomPlot::rpImmediateRefresh);
            QPainter p(&target);
            plot->render(&p);
        }
    };
    QCoreApplication::processEvents();
    std::vector<double> ratios;
    {
        std::vector<double> oursMs, theirsMs;
        auto timed = [](const std::function<void(int)> &frame, int f) {
            QElapsedTimer t;
            t.start();
            frame(f);
            return double(t.nsecsElapsed()) / 1e6;
        };
        if (!charts.empty())
            ourFrame(-1); // warm-up: first layout, caches
        if (!plots.empty())
            theirFrame(-1);
        for (int f = 0; f < frames; ++f) {
            const double a = charts.empty() ? 0 : timed(ourFrame, f);
            const double b = plots.empty() ? 0 : timed(theirFrame, f);
            oursMs.push_back(a);
            theirsMs.push_back(b);
            if (a > 0 && b > 0)
                ratios.push_back(a / b);
        }
        ours = stats(oursMs);
        qcp = stats(theirsMs);
    }
    if (!charts.empty()) {
        const Stats dataOnly = measure(frames, [&](int f) {
            for (int r = 0; r < kRegions; ++r) {
                if (f >= 0)
                    live.record(regionName(r), next[std::size_t(r)][std::size_t(frames + 1 + f)]);
                charts[std::size_t(r)]->refresh();
            }
        });
        std::printf("  HealthChart data update only:          median %8.2f ms\n", dataOnly.median);
        int points = 0;
        for (int s = 0; s < kSeries; ++s)
            points += charts[0]->pointCount(s);
        std::printf("  HealthChart (M4, replace per series):  median %8.2f ms  p95 %8.2f ms  (%d points per chart)\n",
            ours.median, ours.p95, points);
        charts.clear();
    }
    if (!plots.empty()) {
        std::printf("  QCustomPlot (adaptive sampling):       median %8.2f ms  p95 %8.2f ms\n", qcp.median, qcp.p95);
        for (QCustomPlot *p : plots)
            delete p;
    }

    // (2) Naive Qt Charts: every point in the series; each new second appended, the oldest removed.
    struct Naive
    {
        QChartView *view;
        QLineSeries *series[kSeries];
        QDateTimeAxis *x;
    };
    std::vector<Naive> naive;
    if (runs("naive")) {
        for (int r = 0; r < kRegions; ++r) {
            auto *chart = new QChart;
            chart->setAnimationOptions(QChart::NoAnimation);
            auto *x = new QDateTimeAxis;
            auto *y = new QValueAxis;
            chart->addAxis(x, Qt::AlignBottom);
            chart->addAxis(y, Qt::AlignLeft);
            Naive n { new QChartView(chart), {}, x };
            for (int s = 0; s < kSeries; ++s) {
                auto *line = new QLineSeries;
                QList<QPointF> pts;
                pts.reserve(kSeconds);
                for (const HealthSample &h : history[std::size_t(r)])
                    pts.append(QPointF(double(h.time), value(h, s)));
                line->replace(pts);
                chart->addSeries(line);
                line->attachAxis(x);
                line->attachAxis(y);
                n.series[s] = line;
            }
            y->setRange(0, 150);
            n.view->setRenderHint(QPainter::Antialiasing);
            n.view->resize(kWidth, kHeight);
            n.view->show();
            naive.push_back(n);
        }
        QCoreApplication::processEvents();
        naiveStats = measure(std::max(3, frames / 3), [&](int f) {
            for (int r = 0; r < kRegions; ++r) {
                Naive &n = naive[std::size_t(r)];
                if (f >= 0) {
                    const HealthSample &h = next[std::size_t(r)][std::size_t(f)];
                    for (int s = 0; s < kSeries; ++s) {
                        n.series[s]->append(double(h.time), value(h, s));
                        n.series[s]->remove(0);
                    }
                }
                n.x->setRange(QDateTime::fromMSecsSinceEpoch(qint64(n.series[0]->at(0).x())),
                    QDateTime::fromMSecsSinceEpoch(qint64(n.series[0]->at(n.series[0]->count() - 1).x())));
                QPainter p(&target);
                n.view->render(&p);
            }
        });
        std::printf("  naive Qt Charts (every point):          median %8.2f ms  p95 %8.2f ms  (%d points per chart)\n",
            naiveStats.median, naiveStats.p95, kSeries * kSeconds);
        for (Naive &n : naive)
            delete n.view;
    }

    if (!only.isEmpty())
        return 0;

    std::sort(ratios.begin(), ratios.end());
    std::printf("  HealthChart vs naive Qt Charts: %.1fx faster (target >= 20x)\n", naiveStats.median / ours.median);
    std::printf("  HealthChart vs QCustomPlot:     %.2fx the time, median of %zu alternated frames' ratios "
                "(p10 %.2f, p90 %.2f; ratio of medians %.2f; target <= 0.5)\n",
        ratios[ratios.size() / 2], ratios.size(), ratios[ratios.size() / 10], ratios[ratios.size() * 9 / 10],
        ours.median / qcp.median);
    return 0;
}
