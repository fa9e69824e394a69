// The chart class on a synthetic timeline: what reaches Qt Charts (reduced, gaps kept, rates right), the time
// window (follow live, pause, zoom, pan, back to live), thresholds in view, and export.

#include "healthchart.h"

#include <QApplication>
#include <QDir>
#include <QGraphicsView>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include <cmath>
#include <random>

using namespace fleet;

namespace {

constexpr qint64 kT0 = 1'762'934'400; // 2025-11-12 08:00:00 UTC

HealthSample second(qint64 s, double loss, int timeouts)
{
    HealthSample h;
    h.time = s * 1000;
    h.samples = 1;
    h.packetLoss = loss;
    h.failures[int(FailureReason::ETimedOut)] = timeouts;
    h.buildsFailed = timeouts;
    h.rttP95Ms = 100;
    return h;
}

} // namespace

class TestHealthChart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init()
    {
        m_timeline = std::make_unique<HealthTimeline>(86400);
        // Two hours: loss ramps 0 -> 30 %, one ETIMEDOUT every second; a 10-minute gap in the middle.
        for (qint64 s = 0; s < 7200; ++s) {
            if (s >= 3000 && s < 3600)
                continue;
            m_timeline->record(QStringLiteral("eu-central"), second(kT0 + s, 0.3 * double(s) / 7200.0, 1));
        }
        m_chart = std::make_unique<HealthChart>(QStringLiteral("Test"), QStringLiteral("%"));
        m_chart->setTimeline(m_timeline.get());
        m_chart->setRegion(QStringLiteral("eu-central"));
        m_chart->setSeries({ { HealthTimeline::PacketLoss, QStringLiteral("loss"), 0, ChartSeries::Kind::Gauge, 100.0 },
            { HealthTimeline::FailuresETimedOut, QStringLiteral("ETIMEDOUT"), 1, ChartSeries::Kind::RatePerMinute,
                1.0 } });
        m_chart->resize(1000, 400);
        m_chart->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_chart.get()));
        m_chart->setSpanSeconds(7200);
        m_chart->refresh();
    }

    void cleanup()
    {
        m_chart.reset();
        m_timeline.reset();
    }

    void followsTheLiveEdge()
    {
        QVERIFY(m_chart->isFollowingLive());
        QCOMPARE(m_chart->windowTo(), kT0 + 7199);
        QCOMPARE(m_chart->windowFrom(), kT0);
        m_timeline->record(QStringLiteral("eu-central"), second(kT0 + 7200, 0.3, 1));
        m_chart->refresh();
        QCOMPARE(m_chart->windowTo(), kT0 + 7200);
    }

    void reducesToPixelColumnsAndKeepsGaps()
    {
        const QList<QPointF> loss = m_chart->seriesPoints(0);
        QVERIFY(!loss.isEmpty());
        // M4: at most four points per pixel column (plus gap markers), far fewer than the 7,200 seconds.
        QVERIFY2(loss.size() <= 4 * 1000 + 4, qPrintable(QString::number(loss.size())));
        QVERIFY(loss.size() < 7200);
        // The gap is one NaN point inside it, and no finite point falls inside the gap.
        int nanInside = 0;
        for (const QPointF &p : loss) {
            const double s = p.x() / 1000.0;
            if (std::isnan(p.y()))
                nanInside += (s >= kT0 + 3000 && s < kT0 + 3600) ? 1 : 0;
            else
                QVERIFY2(!(s >= kT0 + 3000 && s < kT0 + 3600), qPrintable(QString::number(s - kT0)));
        }
        QCOMPARE(nanInside, 1);
        // Values are scaled (ratio -> percent): the last point is near 30 %.
        QVERIFY(std::abs(loss.last().y() - 30.0) < 0.1);
    }

    void ratePerMinuteIsRight()
    {
        // One ETIMEDOUT a second is 60 a minute, wherever there is data; the gap is a gap, not a drop to zero.
        const QList<QPointF> rate = m_chart->seriesPoints(1);
        QVERIFY(!rate.isEmpty());
        int finite = 0;
        for (const QPointF &p : rate) {
            if (std::isnan(p.y()))
                continue;
            ++finite;
            QVERIFY2(std::abs(p.y() - 60.0) < 1e-6,
                qPrintable(QStringLiteral("%1 at %2").arg(p.y()).arg(p.x() / 1000 - kT0)));
        }
        QVERIFY(finite > 50);
        bool gap = false;
        for (const QPointF &p : rate)
            gap = gap || std::isnan(p.y());
        QVERIFY(gap);
    }

    void timeTicksFallOnRoundTimes()
    {
        // Two hours on ~900 pixels: a tick every 10 or 15 minutes, at multiples of it (09:00, 09:15, ...).
        QVERIFY2(QList<qint64>({ 600, 900, 1200, 1800 }).contains(m_chart->tickSeconds()),
            qPrintable(QString::number(m_chart->tickSeconds())));
        m_chart->setSpanSeconds(300);
        QVERIFY2(m_chart->tickSeconds() <= 60 && 60 % m_chart->tickSeconds() == 0,
            qPrintable(QString::number(m_chart->tickSeconds())));
    }

    // Value labels fall on round numbers at every height: 10 in three steps would be 3.33333 and 6.66667 (seen on a
    // chart made short by the line under the charts at 1920x1080).
    void valueLabelsAreRoundAtEveryHeight()
    {
        for (int height = 110; height <= 520; height += 10) {
            m_chart->resize(1000, height);
            QCoreApplication::processEvents();
            m_chart->refresh();
            const int ticks = m_chart->valueTicks();
            QVERIFY(ticks >= 2 && ticks <= 5);
            const double step = m_chart->yMax() / (ticks - 1);
            const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
            bool round = false;
            for (const double m : { 1.0, 1.25, 2.0, 2.5, 5.0, 10.0 })
                round = round || std::abs(mantissa - m) < 1e-9;
            QVERIFY2(round,
                qPrintable(QStringLiteral("height %1: %2 ticks up to %3").arg(height).arg(ticks).arg(m_chart->yMax())));
        }
    }

    void thresholdStaysInView()
    {
        m_chart->setSeries(
            { { HealthTimeline::PacketLoss, QStringLiteral("loss"), 0, ChartSeries::Kind::Gauge, 100.0 } });
        m_chart->setThresholds({ { 50.0, QStringLiteral("down"), Verdict::Down },
            { 5.0, QStringLiteral("degraded"), Verdict::Degraded } });
        m_chart->setWindow(kT0, kT0 + 600); // loss under 1 % here
        QVERIFY(m_chart->yMax() >= 5.0 * 1.3 - 1e-9); // the lowest threshold is visible: "how far from trouble"
        QVERIFY(m_chart->yMax() < 50.0);
    }

    void zoomPanPauseAndBackToLive()
    {
        QSignalSpy follow(m_chart.get(), &HealthChart::followLiveChanged);
        QSignalSpy user(m_chart.get(), &HealthChart::windowChangedByUser);
        m_chart->zoomBy(0.5, 1.0); // zoom in on the newest half
        QVERIFY(!m_chart->isFollowingLive());
        QCOMPARE(follow.size(), 1);
        QCOMPARE(user.size(), 1);
        const qint64 from = m_chart->windowFrom();
        const qint64 to = m_chart->windowTo();
        QCOMPARE(to - from + 1, 3600);
        // New data does not move a paused window.
        m_timeline->record(QStringLiteral("eu-central"), second(kT0 + 7200, 0.3, 1));
        m_chart->refresh();
        QCOMPARE(m_chart->windowFrom(), from);
        QCOMPARE(m_chart->windowTo(), to);
        m_chart->panBy(-0.5);
        QCOMPARE(m_chart->windowFrom(), from - 1800);
        QCOMPARE(m_chart->windowTo(), to - 1800);
        // The finer window gets finer data: re-reduced, not stretched.
        QVERIFY(m_chart->finitePointCount(0) > 0);
        m_chart->backToLive();
        QVERIFY(m_chart->isFollowingLive());
        QCOMPARE(m_chart->windowTo(), kT0 + 7200);
        QCOMPARE(follow.size(), 2);
    }

    void keyboardPansAndZooms()
    {
        auto *view = m_chart->findChild<QGraphicsView *>();
        QVERIFY(view);
        view->setFocus();
        const qint64 to = m_chart->windowTo();
        QTest::keyClick(view, Qt::Key_Left);
        QVERIFY(!m_chart->isFollowingLive());
        QCOMPARE(m_chart->windowTo(), to - 720);
        QTest::keyClick(view, Qt::Key_Plus);
        QCOMPARE(m_chart->windowTo() - m_chart->windowFrom() + 1, 3600);
    }

    void rubberBandZoomsAndPauses()
    {
        // A person drags a box across the middle of the plot: the chart shows just that stretch and stops following.
        auto *view = m_chart->findChild<QGraphicsView *>();
        QVERIFY(view);
        QSignalSpy user(m_chart.get(), &HealthChart::windowChangedByUser);
        const QRect area = view->viewport()->rect();
        const QPoint from(area.width() * 4 / 10, area.height() / 2);
        const QPoint to(area.width() * 6 / 10, area.height() / 2);
        QTest::mousePress(view->viewport(), Qt::LeftButton, {}, from);
        QMouseEvent move(QEvent::MouseMove, to, view->viewport()->mapToGlobal(to), Qt::NoButton, Qt::LeftButton, {});
        QApplication::sendEvent(view->viewport(), &move);
        QTest::mouseRelease(view->viewport(), Qt::LeftButton, {}, to);
        QTRY_COMPARE(user.size(), 1);
        QVERIFY(!m_chart->isFollowingLive());
        const qint64 width = m_chart->windowTo() - m_chart->windowFrom() + 1;
        QVERIFY2(width > 600 && width < 2400, qPrintable(QString::number(width))); // about a fifth of two hours
        QVERIFY(m_chart->windowFrom() > kT0 && m_chart->windowTo() < kT0 + 7199);
    }

    void markerTooltipShowsWhoWhatWhyAsText()
    {
        m_chart->setMarkers({ { kT0 + 3600, QStringLiteral("Provision 20 amd64 workers in eu-west"),
            QStringLiteral("<b>alice</b>"), QStringLiteral("ETIMEDOUT in eu-central") } });
        auto *view = m_chart->findChild<QGraphicsView *>();
        QVERIFY(view);
        // Find the marker's x by sweeping the pointer across the plot: where the tooltip appears.
        QString tip;
        for (int x = 0; x < view->viewport()->width() && tip.isEmpty(); x += 2) {
            QTest::mouseMove(view->viewport(), QPoint(x, view->viewport()->height() / 2));
            if (QToolTip::isVisible())
                tip = QToolTip::text();
        }
        QVERIFY2(tip.contains(QStringLiteral("Provision 20 amd64 workers in eu-west")), qPrintable(tip));
        QVERIFY(tip.contains(QStringLiteral("ETIMEDOUT in eu-central")));
        QVERIFY2(tip.contains(QStringLiteral("&lt;b&gt;alice&lt;/b&gt;")), qPrintable(tip)); // escaped, not bold
    }

    void csvHasEverySecondWithDataAndNoGapRows()
    {
        m_chart->setWindow(kT0 + 2990, kT0 + 3609);
        const QStringList lines = m_chart->csv().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.first(), QStringLiteral("time_utc,loss (%),ETIMEDOUT (count in that second)"));
        QCOMPARE(lines.size(), 1 + 10 + 10); // 10 s before the gap, 10 s after it, none inside
        QVERIFY2(lines[1].startsWith(QStringLiteral("2025-11-12T08:49:50Z,")), qPrintable(lines[1]));
        QVERIFY(lines[1].endsWith(QStringLiteral(",1")));
    }

    void exportWritesFilesAndReportsFailure()
    {
        QTemporaryDir dir;
        QVERIFY(m_chart->exportPng(dir.filePath(QStringLiteral("c.png"))).ok());
        QImage image(dir.filePath(QStringLiteral("c.png")));
        QCOMPARE(image.size(), m_chart->size() * m_chart->devicePixelRatio());
        QVERIFY(m_chart->exportCsv(dir.filePath(QStringLiteral("c.csv"))).ok());
        QVERIFY(QFileInfo(dir.filePath(QStringLiteral("c.csv"))).size() > 1000);
        const Status csv = m_chart->exportCsv(QStringLiteral("/nonexistent-dir/c.csv"));
        QVERIFY(!csv);
        QVERIFY2(csv.error().contains(QStringLiteral("/nonexistent-dir/c.csv")), qPrintable(csv.error()));
        const Status png = m_chart->exportPng(QStringLiteral("/nonexistent-dir/c.png"));
        QVERIFY(!png);
        QVERIFY2(png.error().contains(QStringLiteral("/nonexistent-dir/c.png")), qPrintable(png.error()));
    }

    void denseDataShowsEverySpikeAndEveryGap()
    {
        // Two hours on 1,000 px: seven seconds a pixel column, drawn as one filled stretch per column plus the
        // joins the stretches do not cover (SeriesLayer). What a person must still see: a one-second spike, the
        // stretch from the noise up to it, and a gap as empty plot. Checked on the rendered pixels.
        HealthTimeline timeline(86400);
        std::mt19937 rng(3);
        std::uniform_real_distribution<double> noise(-0.01, 0.01);
        const qint64 spike = kT0 + 5000;
        for (qint64 s = 0; s < 7200; ++s) {
            if (s >= 3000 && s < 3600)
                continue;
            const double loss = kT0 + s == spike ? 0.9 : 0.1 + noise(rng);
            timeline.record(QStringLiteral("eu-central"), second(kT0 + s, loss, 0));
        }
        HealthChart chart(QStringLiteral("Dense"), QStringLiteral("%"));
        chart.setTimeline(&timeline);
        chart.setRegion(QStringLiteral("eu-central"));
        chart.setSeries({ { HealthTimeline::PacketLoss, QStringLiteral("loss"), 0, ChartSeries::Kind::Gauge, 100.0 } });
        chart.resize(1000, 400);
        chart.show();
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.setSpanSeconds(7200);
        chart.refresh();
        QCOMPARE(chart.yMax(), 100.0);
        const QRectF plot = chart.plotArea();
        const QImage image = chart.renderImage().convertToFormat(QImage::Format_RGB32);
        const double dpr = chart.devicePixelRatioF();
        auto red = [&](double x, double y) {
            const QColor c = image.pixelColor(int(x * dpr), int(y * dpr));
            return c.red() > c.green() + 50 && c.red() > c.blue() + 30;
        };
        auto xOf = [&](qint64 s) { return plot.left() + double(s - kT0) * plot.width() / 7199.0; };
        auto yOf = [&](double percent) { return plot.bottom() - percent / 100.0 * plot.height(); };
        auto redNear = [&](double x, double y) {
            for (int dx = -2; dx <= 2; ++dx) {
                for (int dy = -2; dy <= 2; ++dy) {
                    if (red(x + dx, y + dy))
                        return true;
                }
            }
            return false;
        };
        QVERIFY2(redNear(xOf(spike), yOf(90)), "the one-second spike to 90 % is not drawn");
        QVERIFY2(redNear(xOf(spike), yOf(50)), "the line from the noise up to the spike is not drawn");
        QVERIFY2(redNear(xOf(kT0 + 1000), yOf(10)), "the noise around 10 % is not drawn");
        QVERIFY2(!redNear(xOf(kT0 + 1000), yOf(50)), "a line where there is no data");
        int drawnInGap = 0;
        for (double x = xOf(kT0 + 3000) + 3; x < xOf(kT0 + 3600) - 3; x += 1) {
            for (double y = plot.top() + 3; y < plot.bottom() - 3; y += 1)
                drawnInGap += red(x, y) ? 1 : 0;
        }
        QCOMPARE(drawnInGap, 0);
    }

    void renderedLineIsVisible()
    {
        // The loss line (red in the dark theme, antialiased) must cross the plot: count the pixel columns that hold a
        // reddish pixel. Legend markers cover a few columns; a drawn line covers most of the 1,000. A chart that
        // quietly draws nothing fails here.
        const QImage image = m_chart->renderImage().convertToFormat(QImage::Format_RGB32);
        int columns = 0;
        for (int x = 0; x < image.width(); ++x) {
            bool hit = false;
            for (int y = 0; y < image.height() && !hit; ++y) {
                const QColor c = image.pixelColor(x, y);
                hit = c.red() > c.green() + 50 && c.red() > c.blue() + 30;
            }
            columns += hit ? 1 : 0;
        }
        QVERIFY2(columns > 600, qPrintable(QString::number(columns)));
    }

private:
    std::unique_ptr<HealthTimeline> m_timeline;
    std::unique_ptr<HealthChart> m_chart;
};

QTEST_MAIN(TestHealthChart)
#include "tst_healthchart.moc"
