#pragma once

#include "charttimewindow.h"
#include "healthtimeline.h"
#include "result.h"
#include "theme.h"

#include <QList>
#include <QPointF>
#include <QPointer>
#include <QRectF>
#include <QString>
#include <QWidget>

#include <memory>

namespace fleet {

// One line of a chart: a metric of the health timeline, drawn as it is (a gauge: packet loss, RTT, workers) or as a
// rate per minute over a trailing minute (a counter: build failures).
struct ChartSeries
{
    enum class Kind { Gauge, RatePerMinute };
    HealthTimeline::Metric metric = HealthTimeline::PacketLoss;
    QString name;
    int colorIndex = 0; // into Theme::series
    Kind kind = Kind::Gauge;
    double scale = 1.0; // shown value = stored value x scale (loss 0..1 -> percent)
};

// A horizontal line: "degraded above 5 %".
struct ChartThreshold
{
    double value = 0;
    QString label;
    Verdict severity = Verdict::Degraded;
};

struct VerdictThresholds;
// The threshold lines every view draws from the session's thresholds (HealthMonitor::thresholds()): packet loss in
// percent ("degraded 5 %", "down 50 %") and the RTT p95 in milliseconds. One definition for the console's charts
// and the war-room wall.
QList<ChartThreshold> packetLossLines(const VerdictThresholds &thresholds);
QList<ChartThreshold> rttLines(const VerdictThresholds &thresholds);

// The series every view draws, defined once (the console's charts and the war-room wall): build failures per minute
// by reason (`explained`: "ETIMEDOUT (connection timed out)", else the bare code for a wall), packet loss in percent,
// RTT p95 and p50, workers by state, the build queue. Metric, name, colour and kind.
QList<ChartSeries> failureSeries(bool explained);
QList<ChartSeries> packetLossSeries();
QList<ChartSeries> rttSeries();
QList<ChartSeries> workerSeries();
QList<ChartSeries> queueSeries();

// Something that happened at a moment, drawn as a marker on the time axis: an operation, a status update, any
// timestamped event with who, what and why. Hovering shows all three.
struct ChartMarker
{
    qint64 atSecond = 0;
    QString what;
    QString who;
    QString why;
};

class ChartView;

// The console's one chart class: every line of Qt Charts code lives behind it, so a Qt Graphs or custom backend can
// replace it later. It shows series of one region's HealthTimeline over a ChartTimeWindow (its own, or one shared by
// every chart of a view) that follows the live edge by default; zooming (rubber band, wheel, +/-) or panning (arrows,
// middle drag, shift+wheel) pauses the window where the user chose while data keeps arriving; backToLive() returns.
// Data is reduced to the chart's pixel columns (M4 for gauges) before it reaches Qt Charts, one replace() per series;
// gaps stay gaps.
class HealthChart : public QWidget
{
    Q_OBJECT

public:
    explicit HealthChart(const QString &title, const QString &unit, QWidget *parent = nullptr);
    ~HealthChart() override;

    QString title() const { return m_title; }
    void setTimeline(const HealthTimeline *timeline);
    void setRegion(const QString &region);
    void setSeries(const QList<ChartSeries> &series);
    void setThresholds(const QList<ChartThreshold> &thresholds);
    QList<ChartThreshold> thresholds() const { return m_thresholds; }
    void setMarkers(const QList<ChartMarker> &markers);
    void setMinimumYMax(double value) { m_minYMax = value; }
    void setTheme(const Theme &theme);
    // Series line width in pixels: 1 (the default) takes the raster engine's cosmetic fast path; wider lines (the
    // war-room display, 3 px at 4K) are drawn as square-capped segments, never through Qt's stroker. The axes and the
    // legend follow the widget's font.
    void setLineWidth(int pixels);
    int lineWidth() const { return m_lineWidth; }

    // The time window, in Unix seconds. A chart starts with a window of its own; a view gives all its charts one.
    ChartTimeWindow *timeWindow() const { return m_window; }
    void setTimeWindow(ChartTimeWindow *window);
    // The chart's context menu shows these (the view's registered actions); without them, the window's own.
    void setContextActions(const QList<QAction *> &actions) { m_contextActions = actions; }
    void setSpanSeconds(int seconds); // the width while following live (and the zoom-out limit)
    int spanSeconds() const;
    bool isFollowingLive() const;
    void setWindow(qint64 fromSecond, qint64 toSecond); // shows exactly this and stops following live
    void backToLive();
    qint64 windowFrom() const { return m_from; }
    qint64 windowTo() const { return m_to; }
    void zoomBy(double factor, double anchor = 0.5); // factor < 1 zooms in; anchor 0..1 across the window
    void panBy(double fraction); // of the window width; negative is back in time

    // Re-reads the window from the timeline and replaces each series once. Cheap enough for a few times a second.
    // `followLive` false keeps the window where it is (a view refreshing its charts one by one, all on one window).
    void refresh(bool followLive = true);
    void setStaleText(const QString &text); // shown over the plot; empty when the data is current
    QString staleText() const { return m_staleText; }

    // Export of what is visible: the chart as an image, its data at full one-second resolution as CSV.
    QImage renderImage() const;
    Status exportPng(const QString &path) const;
    QString csv() const;
    Status exportCsv(const QString &path) const;

    // For tests and benchmarks: what the last refresh handed to Qt Charts.
    int seriesCount() const { return int(m_series.size()); }
    const QList<ChartSeries> &series() const { return m_series; }
    int pointCount(int series) const;
    int finitePointCount(int series) const;
    QList<QPointF> seriesPoints(int series) const;
    double yMax() const { return m_yMax; }
    QRectF plotArea() const; // where the lines are drawn, in this widget's coordinates
    int valueTicks() const; // the value axis' labels, 0 to yMax (round steps only)
    qint64 tickSeconds() const { return m_tickSeconds; } // the time axis' step: ticks fall on its multiples (UTC)
    const QList<ChartMarker> &markers() const { return m_markers; }

Q_SIGNALS:
    void windowChangedByUser(qint64 fromSecond, qint64 toSecond);
    void followLiveChanged(bool following);
    void exportRequested(); // the context menu's export entries were used: the owner picks the file

protected:
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    friend class ChartView;
    void applyAxes();
    int valueTickCount() const; // fits the plot's height
    void userWindow(qint64 fromSecond, qint64 toSecond);
    QList<QPointF> pointsFor(int seriesIndex, int regionIndex, int columns) const;
    const ChartMarker *markerNear(double xPixel) const;
    double xAt(qint64 second) const; // the view's x of a second in the window shown

    struct Private;
    std::unique_ptr<Private> d;
    QString m_title;
    QString m_unit;
    const HealthTimeline *m_timeline = nullptr;
    QString m_region;
    QList<ChartSeries> m_series;
    QList<ChartThreshold> m_thresholds;
    QList<ChartMarker> m_markers;
    Theme m_theme;
    QPointer<ChartTimeWindow> m_window;
    ChartTimeWindow *m_ownWindow = nullptr;
    QList<QAction *> m_contextActions;
    qint64 m_from = 0; // the window as of the last refresh
    qint64 m_to = 0;
    double m_yMax = 1;
    qint64 m_tickSeconds = 0;
    bool m_hasData = false; // any finite point in the last refresh
    double m_minYMax = 1;
    int m_lineWidth = 1;
    QString m_staleText;
    bool m_applying = false;
    bool m_rubberBandZoom = false;
};

} // namespace fleet
