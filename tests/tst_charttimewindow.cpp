// ChartTimeWindow: one window per view, shared by every chart: follow, pause, zoom, pan and presets move them all;
// its actions drive it; following live moves with the data without signalling a change of view.

#include "chartpanel.h"
#include "charttimewindow.h"
#include "fleetstore.h"
#include "healthchart.h"

#include <QAction>
#include <QSignalSpy>
#include <QTest>

using namespace fleet;

class TestChartTimeWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void followPauseZoomPan()
    {
        ChartTimeWindow w;
        QSignalSpy changed(&w, &ChartTimeWindow::windowChanged);
        QSignalSpy follow(&w, &ChartTimeWindow::followLiveChanged);
        w.followTo(10'000);
        QCOMPARE(w.to(), 10'000);
        QCOMPARE(w.from(), 10'000 - 3600 + 1);
        QCOMPARE(changed.size(), 0); // following live is not a change of view
        w.pause();
        QCOMPARE(follow.size(), 1);
        w.followTo(20'000); // paused: data arriving does not move it
        QCOMPARE(w.to(), 10'000);
        w.zoomBy(0.5, 1.0); // anchored at the right edge
        QCOMPARE(w.to(), 10'000);
        QCOMPARE(w.to() - w.from() + 1, 1800);
        w.panBy(-0.5);
        QCOMPARE(w.to(), 10'000 - 900);
        w.zoomBy(0.0001); // never narrower than a minute
        QCOMPARE(w.to() - w.from() + 1, qint64(ChartTimeWindow::kMinSpan));
        w.backToLive();
        QVERIFY(w.isFollowingLive());
        w.followTo(20'000);
        QCOMPARE(w.to(), 20'000);
        QCOMPARE(w.to() - w.from() + 1, 3600); // the span, not the zoomed width
        w.actions().spans[0]->trigger(); // "1": the last 5 min
        QCOMPARE(w.spanSeconds(), 300);
        QVERIFY(w.isFollowingLive());
        w.actions().pauseOrResume->trigger();
        QVERIFY(!w.isFollowingLive());
        w.actions().backToLive->trigger();
        QVERIFY(w.isFollowingLive());
        QVERIFY(changed.size() >= 6);
    }

    void oneWindowMovesEveryChartOfTheView()
    {
        FleetStore store;
        HealthTimeline &history = store.history();
        const qint64 now = 1'762'938'780;
        for (qint64 t = now - 7200; t <= now; ++t) {
            HealthSample s;
            s.time = t * 1000;
            s.samples = 1;
            s.packetLoss = 0.01;
            history.record(QStringLiteral("r1"), s);
        }
        ChartTimeWindow window;
        ChartPanel panel(&store, &window);
        panel.resize(1200, 800);
        panel.setRegion(QStringLiteral("r1"), QStringLiteral("Region 1"));
        panel.refreshNow();
        const QList<HealthChart *> charts = panel.charts();
        QVERIFY(charts.size() >= 5);
        for (HealthChart *c : charts) {
            QCOMPARE(c->timeWindow(), &window);
            QCOMPARE(c->windowTo(), now);
        }
        // A gesture on one chart moves all of them and pauses the view.
        charts[2]->zoomBy(0.5, 1.0);
        QVERIFY(!panel.isFollowingLive());
        for (HealthChart *c : charts) {
            QCOMPARE(c->windowFrom(), window.from());
            QCOMPARE(c->windowTo(), window.to());
            QVERIFY(!c->isFollowingLive());
        }
        charts[4]->panBy(-0.25);
        for (HealthChart *c : charts)
            QCOMPARE(c->windowTo(), window.to());
        window.actions().backToLive->trigger();
        for (HealthChart *c : charts) {
            QVERIFY(c->isFollowingLive());
            QCOMPARE(c->windowTo(), now);
        }
        // A chart alone keeps a window of its own.
        HealthChart alone(QStringLiteral("alone"), QString());
        QVERIFY(alone.timeWindow() != &window);
    }
};

QTEST_MAIN(TestChartTimeWindow)
#include "tst_charttimewindow.moc"
