#include "healthchart.h"

#include "healthverdict.h"

#include <QChart>
#include <QChartView>
#include <QCoreApplication>
#include <QDateTime>
#include <QFile>
#include <QFontMetrics>
#include <QGraphicsItem>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QSaveFile>
#include <QTimeZone>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>

#include <cmath>
#include <limits>

namespace fleet {

QList<ChartThreshold> packetLossLines(const VerdictThresholds &t)
{
    auto tr = [](const char *text) { return QCoreApplication::translate("fleet::HealthChart", text); };
    return { { t.degradedPacketLoss * 100, tr("degraded %1 %").arg(t.degradedPacketLoss * 100), Verdict::Degraded },
        { t.downPacketLoss * 100, tr("down %1 %").arg(t.downPacketLoss * 100), Verdict::Down } };
}

namespace {

ChartSeries gauge(HealthTimeline::Metric m, const QString &name, int color, double scale = 1.0)
{
    return ChartSeries { m, name, color, ChartSeries::Kind::Gauge, scale };
}

ChartSeries perMinute(HealthTimeline::Metric m, const QString &name, int color)
{
    return ChartSeries { m, name, color, ChartSeries::Kind::RatePerMinute, 1.0 };
}

QString trChart(const char *text)
{
    return QCoreApplication::translate("fleet::HealthChart", text);
}

} // namespace

QList<ChartSeries> failureSeries(bool explained)
{
    return { perMinute(HealthTimeline::FailuresETimedOut,
                 explained ? trChart("ETIMEDOUT (connection timed out)") : trChart("ETIMEDOUT"), 0),
        perMinute(HealthTimeline::FailuresEConnReset, trChart("ECONNRESET"), 1),
        perMinute(HealthTimeline::FailuresEHostUnreach, trChart("EHOSTUNREACH"), 2),
        perMinute(HealthTimeline::FailuresBuildError, trChart("build error"), 3) };
}

QList<ChartSeries> packetLossSeries()
{
    return { gauge(HealthTimeline::PacketLoss, trChart("packet loss"), 0, 100.0) };
}

QList<ChartSeries> rttSeries()
{
    return { gauge(HealthTimeline::RttP95, trChart("RTT p95"), 1),
        gauge(HealthTimeline::RttP50, trChart("RTT p50"), 4) };
}

QList<ChartSeries> workerSeries()
{
    return { gauge(HealthTimeline::WorkersBusy, trChart("busy"), 1),
        gauge(HealthTimeline::WorkersIdle, trChart("idle"), 4),
        gauge(HealthTimeline::WorkersOffline, trChart("offline"), 0),
        gauge(HealthTimeline::WorkersProvisioning, trChart("provisioning"), 2) };
}

QList<ChartSeries> queueSeries()
{
    return { gauge(HealthTimeline::QueueDepth, trChart("queued builds"), 5),
        gauge(HealthTimeline::WaitP95, trChart("wait p95 (s)"), 3) };
}

QList<ChartThreshold> rttLines(const VerdictThresholds &t)
{
    return { { t.degradedRttP95Ms,
        QCoreApplication::translate("fleet::HealthChart", "degraded %1 ms").arg(t.degradedRttP95Ms),
        Verdict::Degraded } };
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kAxisUnits = 10000; // the still time axis' span: a rubber band's zoom in parts of the window

double niceCeil(double v)
{
    if (!(v > 0))
        return 1;
    const double mag = std::pow(10.0, std::floor(std::log10(v)));
    for (double m : { 1.0, 2.0, 2.5, 5.0, 10.0 }) {
        if (m * mag >= v - 1e-12)
            return m * mag;
    }
    return 10 * mag;
}

// A round step for time ticks: about one label per `pixelsPerLabel` (110 at the desktop's font size).
qint64 tickInterval(qint64 spanSeconds, double widthPixels, double pixelsPerLabel)
{
    static constexpr qint64 steps[]
        = { 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400 };
    const double wanted = double(spanSeconds) / std::max(1.0, widthPixels / pixelsPerLabel);
    for (qint64 step : steps) {
        if (double(step) >= wanted)
            return step;
    }
    return 86400;
}

QString csvField(const QString &s)
{
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) && !s.contains(QLatin1Char('\n')))
        return s;
    QString q = s;
    q.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

QString utcTime(qint64 second, bool withSeconds)
{
    return QDateTime::fromSecsSinceEpoch(second, QTimeZone::utc())
        .toString(withSeconds ? QStringLiteral("HH:mm:ss") : QStringLiteral("HH:mm"));
}

} // namespace

// The Qt Charts view: pointer and keyboard handling, and what is drawn over the plot (thresholds, markers, the
// stale banner), which Qt Charts has no item for.
class ChartView : public QChartView
{
public:
    ChartView(QChart *chart, HealthChart *owner)
        : QChartView(chart)
        , m_owner(owner)
    {
        // Grid and axes are straight lines: no antialiasing needed (it costs); the series layer and the markers turn
        // it on for themselves.
        setRenderHint(QPainter::Antialiasing, false);
        setRubberBand(QChartView::HorizontalRubberBand);
        setFocusPolicy(Qt::StrongFocus);
        setMouseTracking(true);
        setFrameShape(QFrame::NoFrame);
    }

protected:
    void drawForeground(QPainter *painter, const QRectF &rect) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void wheelEvent(QWheelEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;

private:
    void showMenu(const QPoint &globalPos);

    HealthChart *m_owner;
    bool m_panning = false;
    double m_panLastX = 0;
};

// Draws the reduced series inside the plot area. Qt Charts' own line item builds a stroked outline of every line on
// each update (for hit testing), which at a few thousand points per series costs tens of milliseconds per chart
// (docs/performance.md); a polyline per series costs a fraction of that. Axes, grid, legend and zoom stay Qt Charts'.
class SeriesLayer : public QGraphicsItem
{
public:
    SeriesLayer(QChart *chart, const std::vector<QList<QPointF>> *points, const std::vector<QPen> *pens)
        : QGraphicsItem(chart)
        , m_chart(chart)
        , m_points(points)
        , m_pens(pens)
    {
        setZValue(10); // above the grid, below the foreground drawn by the view
    }

    void setRanges(double xMin, double xMax, double yMax, qint64 tickSeconds)
    {
        m_xMin = xMin;
        m_xMax = xMax;
        m_yMax = yMax;
        m_tickMs = double(tickSeconds) * 1000.0;
        prepareGeometryChange();
        update();
    }
    void setGridColor(const QColor &color) { m_grid = color; }

    QRectF boundingRect() const override { return m_chart->plotArea(); }

    void paint(QPainter *painter, const QStyleOptionGraphicsItem *, QWidget *) override
    {
        const QRectF plot = m_chart->plotArea();
        if (plot.isEmpty() || m_xMax <= m_xMin || m_yMax <= 0)
            return;
        painter->save();
        painter->setClipRect(plot.adjusted(-1, -2, 1, 2)); // a line at zero or at the top must stay visible
        painter->setRenderHint(QPainter::Antialiasing);
        const double sx = plot.width() / (m_xMax - m_xMin);
        const double sy = plot.height() / m_yMax;
        if (m_tickMs > 0) { // the time grid, on round times, under the lines
            painter->setRenderHint(QPainter::Antialiasing, false);
            painter->setPen(QPen(m_grid, 0));
            m_segments.clear();
            for (double t = std::ceil(m_xMin / m_tickMs) * m_tickMs; t <= m_xMax; t += m_tickMs) {
                const double x = std::round(plot.left() + (t - m_xMin) * sx);
                m_segments.append(QLineF(x, plot.top(), x, plot.bottom()));
            }
            painter->drawLines(m_segments);
            painter->setRenderHint(QPainter::Antialiasing, true);
        }
        for (std::size_t i = 0; i < m_points->size(); ++i) {
            const QPen &pen = (*m_pens)[i];
            painter->setPen(pen);
            // A translucent pen would show where spans and segments overlap: it keeps every point.
            const bool spans = pen.color().alpha() == 255;
            m_run.clear();
            for (const QPointF &p : (*m_points)[i]) {
                if (std::isnan(p.y())) {
                    drawRun(painter, pen, plot, spans); // a gap: never joined across
                    continue;
                }
                m_run.append(QPointF(plot.left() + (p.x() - m_xMin) * sx, plot.bottom() - p.y() * sy));
            }
            drawRun(painter, pen, plot, spans);
        }
        painter->restore();
    }

private:
    // One column of a run: where the line enters and leaves it, and the stretch its points cover.
    struct Column
    {
        double x = 0; // the point's own x, or the column's centre when it holds several
        double first = 0, last = 0, top = 0, bottom = 0;
        int count = 0;
    };

    // Draws a run of points without gaps (device coordinates) and clears it.
    //
    // Where the data is denser than the pixel columns (a day on 1,920 px: four points a column after M4), the
    // antialiased polyline would go down and up each column pixel by pixel, blending each one. Instead a column's
    // stretch is one opaque integer rectangle, which the raster engine fills without blending, and only the
    // segments joining two columns that the rectangles do not already cover are stroked (docs/performance.md). A
    // line wider than 1 px (the war-room display) is drawn as separate segments with square caps and without
    // antialiasing: the raster engine fills each as one quadrilateral, where a wide polyline goes through QStroker's
    // joins and a path fill, 60x slower at 4K; the caps overlap at the joins, so no notch shows.
    void drawRun(QPainter *painter, const QPen &pen, const QRectF &plot, bool spans)
    {
        if (m_run.isEmpty())
            return;
        const bool thick = pen.widthF() > 1.0;
        const double width = thick ? pen.widthF() : 1.0;
        const double columnWidth = thick ? width / 2.0 : 1.0; // the reducer's column (HealthChart::refresh)
        m_columns.clear();
        qint64 current = std::numeric_limits<qint64>::min();
        for (const QPointF &p : std::as_const(m_run)) {
            const auto c = qint64(std::floor((p.x() - plot.left()) / columnWidth));
            if (!spans || c != current || m_columns.empty()) {
                m_columns.push_back({ p.x(), p.y(), p.y(), p.y(), p.y(), 0 });
                current = c;
            }
            Column &col = m_columns.back();
            if (col.count > 0)
                col.x = plot.left() + (double(c) + 0.5) * columnWidth;
            col.last = p.y();
            col.top = std::min(col.top, p.y());
            col.bottom = std::max(col.bottom, p.y());
            ++col.count;
        }
        m_run.clear();
        if (m_columns.size() == 1 && m_columns.front().count == 1) {
            painter->drawPoint(QPointF(m_columns.front().x, m_columns.front().first)); // a lone second between gaps
            return;
        }
        bool dense = false;
        m_rects.clear();
        for (const Column &c : m_columns) {
            if (c.count < 2)
                continue;
            dense = true;
            const int x0 = int(std::lround(c.x - width / 2));
            const int y0 = int(std::lround(c.top - width / 2));
            const int y1 = int(std::lround(c.bottom + width / 2));
            m_rects.append(QRect(x0, y0, int(width), std::max(1, y1 - y0)));
        }
        if (!dense && !thick) {
            m_line.clear();
            for (const Column &c : m_columns)
                m_line.append(QPointF(c.x, c.first));
            painter->drawPolyline(m_line);
            return;
        }
        m_segments.clear();
        auto within = [](double y, const Column &c) { return c.count > 1 && y >= c.top && y <= c.bottom; };
        for (std::size_t k = 1; k < m_columns.size(); ++k) {
            const Column &a = m_columns[k - 1];
            const Column &b = m_columns[k];
            if (within(a.last, b) && within(b.first, a))
                continue; // both ends inside both columns' rectangles: the rectangles cover every pixel of it
            m_segments.append(QLineF(a.x, a.last, b.x, b.first));
        }
        painter->setRenderHint(QPainter::Antialiasing, false);
        painter->drawLines(m_segments);
        painter->setPen(Qt::NoPen);
        painter->setBrush(pen.color());
        painter->drawRects(m_rects); // integer, unblended: the raster engine fills them directly
        painter->setBrush(Qt::NoBrush);
        painter->setPen(pen);
        painter->setRenderHint(QPainter::Antialiasing, true);
    }

    QPolygonF m_run; // reused from frame to frame
    std::vector<Column> m_columns;
    QPolygonF m_line;
    QList<QLineF> m_segments;
    QList<QRect> m_rects;
    QChart *m_chart;
    const std::vector<QList<QPointF>> *m_points;
    const std::vector<QPen> *m_pens;
    double m_xMin = 0, m_xMax = 0, m_yMax = 1;
    double m_tickMs = 0;
    QColor m_grid;
};

struct HealthChart::Private
{
    QChart *chart = nullptr;
    SeriesLayer *layer = nullptr;
    std::vector<QList<QPointF>> points; // per series, as drawn: x in ms since the epoch, NaN for gaps
    std::vector<QPen> pens;
    std::vector<TimelineReducer> reducers;
    ChartView *view = nullptr;
    QValueAxis *axisX = nullptr; // ms since the epoch; ticks on round times, labelled by ChartView
    QValueAxis *axisY = nullptr;
    std::vector<QLineSeries *> lines; // empty: they give the legend its entries; the layer draws the data
    QLabel *titleLabel = nullptr;
    QLabel *windowLabel = nullptr;
};

HealthChart::HealthChart(const QString &title, const QString &unit, QWidget *parent)
    : QWidget(parent)
    , d(std::make_unique<Private>())
    , m_title(title)
    , m_unit(unit)
    , m_theme(Theme::current())
{
    d->chart = new QChart;
    d->chart->setAnimationOptions(QChart::NoAnimation); // live data: animations would lag and cost frames
    d->chart->setMargins(QMargins(2, 2, 8, 2));
    d->chart->layout()->setContentsMargins(0, 0, 0, 0);
    d->chart->setBackgroundRoundness(0);
    d->chart->legend()->setAlignment(Qt::AlignBottom);
    // The time axis stands still: Qt Charts lays an axis out again, labels as rich text and all, whenever its range
    // moves, which a live chart's does every second (1.5 ms a frame for six charts). It spans kAxisUnits, gives the
    // time labels their room (its own labels are transparent placeholders) and carries the rubber band's zoom;
    // the grid lines on round times (09:00, 09:10, ...; QDateTimeAxis can only divide the window evenly) are
    // drawn by the series layer, the times under them by ChartView.
    d->axisX = new QValueAxis;
    d->axisX->setTickType(QValueAxis::TicksFixed);
    d->axisX->setTickCount(2);
    d->axisX->setRange(0, kAxisUnits);
    d->axisX->setGridLineVisible(false);
    d->axisX->setLabelFormat(QStringLiteral("%.0f"));
    d->axisY = new QValueAxis;
    d->axisY->setLabelFormat(QStringLiteral("%g"));
    d->chart->addAxis(d->axisX, Qt::AlignBottom);
    d->chart->addAxis(d->axisY, Qt::AlignLeft);
    d->view = new ChartView(d->chart, this); // owns the chart
    d->layer = new SeriesLayer(d->chart, &d->points, &d->pens);
    d->view->setAccessibleName(tr("%1 chart").arg(title));

    d->titleLabel = new QLabel(unit.isEmpty() ? title : tr("%1 (%2)").arg(title, unit), this);
    d->titleLabel->setTextFormat(Qt::PlainText);
    QFont f = d->titleLabel->font();
    f.setBold(true);
    d->titleLabel->setFont(f);
    d->windowLabel = new QLabel(this);
    d->windowLabel->setTextFormat(Qt::PlainText);
    d->windowLabel->setAlignment(Qt::AlignRight | Qt::AlignVCenter);

    auto *head = new QHBoxLayout;
    head->setContentsMargins(6, 2, 6, 0);
    head->addWidget(d->titleLabel, 1);
    head->addWidget(d->windowLabel);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addLayout(head);
    layout->addWidget(d->view, 1);

    connect(d->axisX, &QValueAxis::rangeChanged, this, [this](qreal min, qreal max) {
        if (m_applying || !m_rubberBandZoom)
            return; // Qt Charts moves the axis itself at times (new data, layout); only the rubber band is the user
        // The rubber band moved the axis: that is the user choosing a window (the axis spans the window shown).
        const double span = double(m_to - m_from);
        const double from = double(m_from) + min / kAxisUnits * span;
        const double to = double(m_from) + max / kAxisUnits * span;
        userWindow(qint64(std::floor(from)), qint64(std::ceil(to)));
    });
    m_ownWindow = new ChartTimeWindow(this);
    setTimeWindow(m_ownWindow);
    setTheme(m_theme);
    // 120 px tall at least: three rows of charts, the header's lines and the workers still fit a 1366x768 laptop
    // screen (at 160 the window needed 794 px and more with the history and alert lines).
    setMinimumSize(240, 120);
}

HealthChart::~HealthChart() = default;

void HealthChart::setTimeline(const HealthTimeline *timeline)
{
    m_timeline = timeline;
}

void HealthChart::setRegion(const QString &region)
{
    m_region = region;
    for (TimelineReducer &r : d->reducers)
        r.reset();
}

void HealthChart::setSeries(const QList<ChartSeries> &series)
{
    for (QLineSeries *line : d->lines) {
        d->chart->removeSeries(line);
        delete line;
    }
    d->lines.clear();
    m_series = series;
    for (const ChartSeries &spec : series) {
        auto *line = new QLineSeries;
        line->setName(spec.name);
        line->setUseOpenGL(false);
        d->chart->addSeries(line);
        line->attachAxis(d->axisX);
        line->attachAxis(d->axisY);
        d->lines.push_back(line);
    }
    d->points.assign(std::size_t(series.size()), {});
    d->pens.assign(std::size_t(series.size()), QPen());
    d->reducers.assign(std::size_t(series.size()), TimelineReducer());
    setTheme(m_theme);
}

void HealthChart::setThresholds(const QList<ChartThreshold> &thresholds)
{
    m_thresholds = thresholds;
    d->view->viewport()->update();
}

void HealthChart::setMarkers(const QList<ChartMarker> &markers)
{
    m_markers = markers;
    d->view->viewport()->update();
}

void HealthChart::setTheme(const Theme &theme)
{
    m_theme = theme;
    d->chart->setBackgroundBrush(theme.surface);
    d->chart->setBackgroundPen(Qt::NoPen);
    d->chart->setPlotAreaBackgroundVisible(false);
    d->chart->legend()->setLabelColor(theme.text);
    for (QAbstractAxis *axis : { static_cast<QAbstractAxis *>(d->axisX), static_cast<QAbstractAxis *>(d->axisY) }) {
        axis->setLabelsColor(theme.mutedText);
        axis->setGridLineColor(theme.grid);
        axis->setLinePenColor(theme.grid);
        axis->setTitleBrush(theme.mutedText);
    }
    d->axisX->setLabelsColor(Qt::transparent); // ChartView writes the times
    d->layer->setGridColor(theme.grid);
    for (std::size_t i = 0; i < d->lines.size(); ++i) {
        QPen pen(theme.series[std::clamp(m_series[qsizetype(i)].colorIndex, 0, 5)]);
        // Width 1 takes the raster engine's fast cosmetic path. Wider lines are drawn as segments (SeriesLayer).
        pen.setWidthF(m_lineWidth);
        pen.setCosmetic(m_lineWidth <= 1);
        if (m_lineWidth > 1)
            pen.setCapStyle(Qt::SquareCap);
        d->lines[i]->setPen(pen); // the legend's swatch
        d->pens[i] = pen;
    }
    QPalette pal = palette();
    pal.setColor(QPalette::Window, theme.surface);
    pal.setColor(QPalette::WindowText, theme.text);
    setPalette(pal);
    setAutoFillBackground(true);
    QPalette muted = d->windowLabel->palette(); // a palette, not a style sheet: the label keeps following the font
    muted.setColor(QPalette::WindowText, theme.mutedText);
    d->windowLabel->setPalette(muted);
    d->view->setBackgroundBrush(theme.surface);
    d->view->viewport()->update();
}

void HealthChart::setTimeWindow(ChartTimeWindow *window)
{
    if (!window)
        window = m_ownWindow;
    if (m_window == window)
        return;
    if (m_window)
        m_window->disconnect(this);
    m_window = window;
    // The window moved by the user (here or in another chart of the view): redraw. Following live needs no signal:
    // the view refreshes its charts as data arrives.
    connect(window, &ChartTimeWindow::windowChanged, this, [this] { refresh(); });
    connect(window, &ChartTimeWindow::followLiveChanged, this, &HealthChart::followLiveChanged);
    refresh();
}

int HealthChart::spanSeconds() const
{
    return m_window->spanSeconds();
}

bool HealthChart::isFollowingLive() const
{
    return m_window->isFollowingLive();
}

void HealthChart::setSpanSeconds(int seconds)
{
    m_window->setSpanSeconds(seconds);
}

void HealthChart::setWindow(qint64 fromSecond, qint64 toSecond)
{
    m_window->setWindow(fromSecond, toSecond);
}

void HealthChart::backToLive()
{
    m_window->backToLive();
}

void HealthChart::userWindow(qint64 fromSecond, qint64 toSecond)
{
    m_window->setWindow(fromSecond, toSecond);
    Q_EMIT windowChangedByUser(m_window->from(), m_window->to());
}

void HealthChart::zoomBy(double factor, double anchor)
{
    m_window->zoomBy(factor, anchor);
    Q_EMIT windowChangedByUser(m_window->from(), m_window->to());
}

void HealthChart::panBy(double fraction)
{
    m_window->panBy(fraction);
    Q_EMIT windowChangedByUser(m_window->from(), m_window->to());
}

void HealthChart::setStaleText(const QString &text)
{
    if (m_staleText == text)
        return;
    m_staleText = text;
    d->view->viewport()->update();
}

QList<QPointF> HealthChart::pointsFor(int seriesIndex, int regionIndex, int columns) const
{
    const ChartSeries &spec = m_series[seriesIndex];
    QList<QPointF> out;
    if (spec.kind == ChartSeries::Kind::Gauge) {
        // Cached per series: following live, only the newest pixel columns are reduced again each frame.
        const std::vector<QPointF> &reduced = d->reducers[std::size_t(seriesIndex)].reduce(
            *m_timeline, regionIndex, spec.metric, m_from, m_to, columns);
        out.reserve(qsizetype(reduced.size()));
        for (const QPointF &p : reduced)
            out.append(QPointF(p.x() * 1000.0, p.y() * spec.scale));
        return out;
    }
    // A counter as a rate per minute: at each step, the count over the trailing minute (or step, if longer),
    // averaged over the seconds that have data, so that a short gap does not read as a drop.
    const qint64 span = m_to - m_from + 1;
    const qint64 step = std::max<qint64>(1, (span + columns - 1) / std::max(1, columns));
    const qint64 window = std::max<qint64>(60, step);
    thread_local std::vector<float> raw;
    thread_local std::vector<double> sum;
    thread_local std::vector<int> have;
    const qint64 first = m_from - window + 1;
    m_timeline->series(regionIndex, spec.metric, first, m_to, &raw);
    sum.assign(raw.size() + 1, 0.0);
    have.assign(raw.size() + 1, 0);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const bool ok = !std::isnan(raw[i]);
        sum[i + 1] = sum[i] + (ok ? double(raw[i]) : 0.0);
        have[i + 1] = have[i] + (ok ? 1 : 0);
    }
    auto index = [first](qint64 second) { return std::size_t(second - first + 1); }; // prefix index after second
    out.reserve(qsizetype(span / step + 2));
    bool inGap = false;
    for (qint64 t = m_from + step - 1 - ((m_from + step - 1) % step); t <= m_to + step - 1; t += step) {
        const qint64 tt = std::min(t, m_to);
        const qint64 bucketStart = std::max(m_from, tt - step + 1);
        if (have[index(tt)] - have[index(bucketStart - 1)] == 0) {
            if (!inGap)
                out.append(QPointF(double(bucketStart) * 1000.0, kNaN));
            inGap = true;
            continue;
        }
        inGap = false;
        const qint64 ws = std::max(first, tt - window + 1);
        const int n = have[index(tt)] - have[index(ws - 1)];
        const double total = sum[index(tt)] - sum[index(ws - 1)];
        out.append(QPointF(double(tt) * 1000.0, total / n * 60.0 * spec.scale));
        if (tt == m_to)
            break;
    }
    return out;
}

void HealthChart::refresh(bool followLive)
{
    if (!m_window)
        return;
    if (followLive)
        m_window->followTo(m_timeline ? m_timeline->latestSecond() : 0);
    m_from = m_window->from();
    m_to = m_window->to();
    const int regionIndex = m_timeline ? m_timeline->regionIndex(m_region) : -1;
    // One column a pixel; a line N px wide cannot show detail finer than about half its width, so it gets fewer.
    const double perColumn = m_lineWidth > 1 ? double(m_lineWidth) / 2.0 : 1.0;
    const int columns = std::max(100, int(d->chart->plotArea().width() / perColumn));
    double dataMax = 0;
    m_hasData = false;
    for (std::size_t i = 0; i < d->lines.size(); ++i) {
        QList<QPointF> points;
        if (regionIndex >= 0)
            points = pointsFor(int(i), regionIndex, columns);
        for (const QPointF &p : std::as_const(points)) {
            m_hasData = m_hasData || !std::isnan(p.y());
            if (p.y() > dataMax) // NaN compares false: gaps never raise the maximum
                dataMax = p.y();
        }
        d->points[i] = std::move(points);
    }
    double yMax = std::max(dataMax * 1.1, m_minYMax);
    if (!m_thresholds.isEmpty()) {
        double lowest = m_thresholds.first().value;
        for (const ChartThreshold &t : std::as_const(m_thresholds))
            lowest = std::min(lowest, t.value);
        yMax = std::max(yMax, lowest * 1.3); // the first threshold is always in view: "how far from trouble"
    }
    m_yMax = niceCeil(yMax);
    applyAxes();
}

void HealthChart::applyAxes()
{
    m_applying = true;
    if (d->axisX->min() != 0 || d->axisX->max() != kAxisUnits)
        d->axisX->setRange(0, kAxisUnits); // after a rubber band zoom; otherwise it never moves
    const qint64 span = m_to - m_from + 1;
    // Room for "00:00:00" and a gap: more at the war room's large type.
    const double perLabel = std::max(110.0, 1.6 * QFontMetrics(font()).horizontalAdvance(QStringLiteral("00:00:00")));
    m_tickSeconds = tickInterval(span, d->chart->plotArea().width(), perLabel);
    if (d->axisY->max() != m_yMax || d->axisY->min() != 0)
        d->axisY->setRange(0, m_yMax);
    const int ticks = valueTickCount();
    if (d->axisY->tickCount() != ticks)
        d->axisY->setTickCount(ticks);
    d->layer->setRanges(double(m_from) * 1000.0, double(m_to) * 1000.0, m_yMax, m_tickSeconds);
    m_applying = false;
    const QString range = tr("%1 – %2 UTC").arg(utcTime(m_from, span <= 900), utcTime(m_to, span <= 900));
    d->windowLabel->setText(m_window->isFollowingLive() ? tr("%1 · last %2").arg(m_window->edgeName(), formatSpan(span))
                                                        : tr("paused · %1 (%2)").arg(range, formatSpan(span)));
    d->view->viewport()->update();
}

int HealthChart::valueTicks() const
{
    return d->axisY->tickCount();
}

int HealthChart::valueTickCount() const
{
    // As many value labels as fit the plot's height with a line of space between them, 2 to 5: a fixed 5 on a short
    // chart (a 1366x768 laptop) made Qt Charts elide every label to "...".
    // And only counts that put the labels on round values: 10 in three steps would read 3.33333 and 6.66667.
    const int plotHeight = int(d->chart->plotArea().height());
    const int perLabel = 2 * QFontMetrics(d->axisY->labelsFont()).height();
    if (plotHeight <= 0 || perLabel <= 0)
        return 5;
    const int fit = std::clamp(plotHeight / perLabel, 1, 4); // intervals
    auto round = [](double step) {
        if (!(step > 0) || !std::isfinite(step))
            return false;
        const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
        for (const double m : { 1.0, 1.25, 2.0, 2.5, 5.0, 10.0 })
            if (std::abs(mantissa - m) < 1e-9)
                return true;
        return false;
    };
    for (int intervals = fit; intervals > 1; --intervals)
        if (round(m_yMax / intervals))
            return intervals + 1;
    return 2;
}

void HealthChart::setLineWidth(int pixels)
{
    m_lineWidth = std::clamp(pixels, 1, 12);
    setTheme(m_theme);
}

void HealthChart::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    // A view that sets a larger font (the war-room display) gets it in the axes and the legend too: Qt Charts' text
    // does not inherit the widget's font by itself.
    if (event->type() == QEvent::FontChange) {
        d->axisX->setLabelsFont(font());
        d->axisY->setLabelsFont(font());
        QFont legend = font(); // a notch smaller than the axes: four reasons must fit under a narrow chart
        if (legend.pixelSize() > 0)
            legend.setPixelSize(std::max(8, int(std::lround(legend.pixelSize() * 0.85))));
        d->chart->legend()->setFont(legend);
        if (m_from || m_to)
            applyAxes(); // the tick count follows the label height
    }
    // The theme is announced by the application palette changing (Theme::apply): no one pushes it to each chart.
    if (event->type() == QEvent::ApplicationPaletteChange && Theme::current().kind != m_theme.kind)
        setTheme(Theme::current());
}

void HealthChart::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    if (m_from || m_to)
        refresh(); // the number of pixel columns changed
}

int HealthChart::pointCount(int series) const
{
    return series >= 0 && series < int(d->points.size()) ? int(d->points[std::size_t(series)].size()) : 0;
}

int HealthChart::finitePointCount(int series) const
{
    int n = 0;
    for (const QPointF &p : seriesPoints(series))
        n += std::isfinite(p.y()) ? 1 : 0;
    return n;
}

QList<QPointF> HealthChart::seriesPoints(int series) const
{
    return series >= 0 && series < int(d->points.size()) ? d->points[std::size_t(series)] : QList<QPointF>();
}

QImage HealthChart::renderImage() const
{
    return const_cast<HealthChart *>(this)->grab().toImage();
}

Status HealthChart::exportPng(const QString &path) const
{
    const QImage image = renderImage();
    if (image.isNull() || !image.save(path, "PNG"))
        return Status::failure(tr("Could not write the image to %1. Check that the folder exists, is writable and "
                                  "the disk is not full.")
                                   .arg(path));
    return Status::success();
}

QString HealthChart::csv() const
{
    QString out = QStringLiteral("time_utc");
    for (const ChartSeries &spec : m_series) {
        const QString unit = spec.kind == ChartSeries::Kind::RatePerMinute ? tr("count in that second") : m_unit;
        out += QLatin1Char(',') + csvField(unit.isEmpty() ? spec.name : tr("%1 (%2)").arg(spec.name, unit));
    }
    out += QLatin1Char('\n');
    const int regionIndex = m_timeline ? m_timeline->regionIndex(m_region) : -1;
    if (regionIndex < 0)
        return out;
    std::vector<std::vector<float>> columns(std::size_t(m_series.size()));
    for (qsizetype i = 0; i < m_series.size(); ++i)
        m_timeline->series(regionIndex, m_series[i].metric, m_from, m_to, &columns[std::size_t(i)]);
    for (qint64 s = m_from; s <= m_to; ++s) {
        const std::size_t k = std::size_t(s - m_from);
        bool any = false;
        QString row
            = QDateTime::fromSecsSinceEpoch(s, QTimeZone::utc()).toString(QStringLiteral("yyyy-MM-dd'T'HH:mm:ss'Z'"));
        for (qsizetype i = 0; i < m_series.size(); ++i) {
            const float v = columns[std::size_t(i)][k];
            row += QLatin1Char(',');
            if (!std::isnan(v)) {
                any = true;
                const double scale = m_series[i].kind == ChartSeries::Kind::Gauge ? m_series[i].scale : 1.0;
                row += QString::number(double(v) * scale, 'g', 6);
            }
        }
        if (any) // seconds without data are left out: a gap in the file is a gap in the data
            out += row + QLatin1Char('\n');
    }
    return out;
}

Status HealthChart::exportCsv(const QString &path) const
{
    QSaveFile file(path);
    const QByteArray bytes = csv().toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return Status::failure(tr("Could not write %1: %2. Nothing was written; check the folder and free disk "
                                  "space.")
                                   .arg(path, file.errorString()));
    return Status::success();
}

QRectF HealthChart::plotArea() const
{
    return d->chart->plotArea().translated(d->view->mapTo(this, QPoint(0, 0)));
}

double HealthChart::xAt(qint64 second) const
{
    const QRectF plot = d->chart->plotArea();
    if (m_to <= m_from)
        return plot.left();
    return plot.left() + double(second - m_from) * plot.width() / double(m_to - m_from);
}

const ChartMarker *HealthChart::markerNear(double xPixel) const
{
    const ChartMarker *best = nullptr;
    double bestDistance = 7; // pixels
    for (const ChartMarker &m : m_markers) {
        if (m.atSecond < m_from || m.atSecond > m_to)
            continue;
        const double x = xAt(m.atSecond);
        if (std::abs(x - xPixel) < bestDistance) {
            bestDistance = std::abs(x - xPixel);
            best = &m;
        }
    }
    return best;
}

void ChartView::drawForeground(QPainter *painter, const QRectF &rect)
{
    QChartView::drawForeground(painter, rect);
    const HealthChart &o = *m_owner;
    const Theme &theme = o.m_theme;
    QChart *c = chart();
    const QRectF plot = c->plotArea();
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setClipRect(plot.adjusted(0, -2, 0, 2));
    QFont small = font();
    if (small.pixelSize() > 0) // the war-room display sizes its type in pixels
        small.setPixelSize(std::max(8, int(std::lround(small.pixelSize() * 0.85))));
    else
        small.setPointSizeF(small.pointSizeF() * 0.85);
    painter->setFont(small);
    const QFontMetricsF fm(small);

    for (const ChartThreshold &t : o.m_thresholds) {
        if (t.value > o.m_yMax)
            continue;
        const double y = c->mapToPosition(QPointF(double(o.m_from) * 1000.0, t.value)).y();
        QPen pen(theme.verdictColor(t.severity), std::max(1, o.m_lineWidth - 1), Qt::DashLine);
        pen.setCosmetic(true);
        painter->setPen(pen);
        painter->drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        // On a backing of the chart's own colour, so the label stays legible where a line runs along the threshold.
        const QRectF box(plot.right() - fm.horizontalAdvance(t.label) - 8, y - fm.height() - 2,
            fm.horizontalAdvance(t.label) + 6, fm.height());
        QColor backing = theme.surface;
        backing.setAlpha(210);
        painter->fillRect(box, backing);
        painter->drawText(box, Qt::AlignCenter, t.label);
    }

    for (const ChartMarker &m : o.m_markers) {
        if (m.atSecond < o.m_from || m.atSecond > o.m_to)
            continue;
        const double x = o.xAt(m.atSecond);
        QPen pen(theme.accent, std::max(1, o.m_lineWidth - 1), Qt::DotLine);
        pen.setCosmetic(true);
        painter->setPen(pen);
        painter->drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        painter->setPen(Qt::NoPen);
        painter->setBrush(theme.accent);
        const QPointF top(x, plot.top() + 1);
        const QPointF diamond[] = { top, top + QPointF(4, 5), top + QPointF(0, 10), top + QPointF(-4, 5) };
        painter->drawPolygon(diamond, 4);
    }
    painter->setClipping(false);

    // Time labels under the round ticks (the axis' own labels are transparent placeholders).
    if (o.m_tickSeconds > 0) {
        painter->setPen(theme.mutedText);
        painter->setFont(font());
        const QFontMetricsF tfm(font());
        const bool seconds = o.m_tickSeconds < 60;
        const qint64 first = (o.m_from + o.m_tickSeconds - 1) / o.m_tickSeconds * o.m_tickSeconds;
        for (qint64 t = first; t <= o.m_to; t += o.m_tickSeconds) {
            const double x = o.xAt(t);
            const QDateTime when = QDateTime::fromSecsSinceEpoch(t, QTimeZone::utc());
            const QString label = when.time().msecsSinceStartOfDay() == 0 && o.m_tickSeconds < 86400
                ? when.toString(QStringLiteral("MMM d")) // midnight: the date, so a 24 h chart says which day
                : when.toString(seconds ? QStringLiteral("HH:mm:ss") : QStringLiteral("HH:mm"));
            const double w = tfm.horizontalAdvance(label);
            painter->setPen(theme.grid);
            painter->drawLine(
                QPointF(std::round(x) + 0.5, plot.bottom()), QPointF(std::round(x) + 0.5, plot.bottom() + 4));
            painter->setPen(theme.mutedText);
            painter->drawText(
                QPointF(std::clamp(x - w / 2, 0.0, double(width()) - w), plot.bottom() + 4 + tfm.ascent()), label);
        }
    }

    auto banner = [&](const QString &text, const QColor &background, const QColor &foreground, double y) {
        QFont bold = font();
        bold.setBold(true);
        painter->setFont(bold);
        const QFontMetricsF bfm(bold);
        const QRectF box(plot.center().x() - bfm.horizontalAdvance(text) / 2 - 10, y, bfm.horizontalAdvance(text) + 20,
            bfm.height() + 8);
        painter->setPen(Qt::NoPen);
        painter->setBrush(background);
        painter->drawRoundedRect(box, 4, 4);
        painter->setPen(foreground);
        painter->drawText(box, Qt::AlignCenter, text);
    };
    const QColor onBanner = theme.kind == Theme::Kind::Dark ? QColor(0x10, 0x12, 0x16) : QColor(Qt::white);
    if (!o.m_staleText.isEmpty()) {
        QColor veil = theme.surface;
        veil.setAlpha(150); // visibly not live: the lines fade behind the banner
        painter->fillRect(plot, veil);
        banner(o.m_staleText, theme.stale, onBanner, plot.top() + 6);
    } else if (!o.isFollowingLive()) {
        QColor bg = theme.accent;
        banner(QCoreApplication::translate("fleet::HealthChart", "Paused · End returns to live"), bg, onBanner,
            plot.top() + 6);
    }
    if (!o.m_hasData && o.seriesCount() > 0) {
        painter->setPen(theme.mutedText);
        painter->setFont(font());
        painter->drawText(
            plot, Qt::AlignCenter, QCoreApplication::translate("fleet::HealthChart", "No data for this time window"));
    }
    painter->restore();
}

void ChartView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::MiddleButton) {
        m_panning = true;
        m_panLastX = event->position().x();
        setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    if (event->button() == Qt::RightButton) {
        event->accept(); // the menu opens on release; Qt Charts' right-click zoom-out is in the menu
        return;
    }
    QChartView::mousePressEvent(event);
}

void ChartView::mouseMoveEvent(QMouseEvent *event)
{
    if (m_panning) {
        const double dx = event->position().x() - m_panLastX;
        const double width = std::max(1.0, chart()->plotArea().width());
        if (std::abs(dx) >= 2) {
            m_panLastX = event->position().x();
            m_owner->panBy(-dx / width);
        }
        event->accept();
        return;
    }
    if (const ChartMarker *m = m_owner->markerNear(event->position().x())) {
        // Escaped: names and reasons come from the server and are shown as text, never as markup.
        const QString html
            = QStringLiteral("<p style='white-space:pre'><b>%1</b><br>%2<br>%3<br>%4</p>")
                  .arg(m->what.toHtmlEscaped(),
                      QCoreApplication::translate("fleet::HealthChart", "by %1").arg(m->who).toHtmlEscaped(),
                      m->why.toHtmlEscaped(), utcTime(m->atSecond, true) + QStringLiteral(" UTC"));
        QToolTip::showText(event->globalPosition().toPoint(), html, this);
    } else {
        QToolTip::hideText();
    }
    QChartView::mouseMoveEvent(event);
}

void ChartView::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::MiddleButton && m_panning) {
        m_panning = false;
        unsetCursor();
        event->accept();
        return;
    }
    if (event->button() == Qt::RightButton) {
        showMenu(event->globalPosition().toPoint());
        event->accept();
        return;
    }
    m_owner->m_rubberBandZoom = event->button() == Qt::LeftButton;
    QChartView::mouseReleaseEvent(event); // a finished rubber band zooms the chart here
    m_owner->m_rubberBandZoom = false;
}

void ChartView::wheelEvent(QWheelEvent *event)
{
    const QPoint delta = event->angleDelta();
    const double plotLeft = chart()->plotArea().left();
    const double width = std::max(1.0, chart()->plotArea().width());
    if (delta.x() != 0 || (event->modifiers() & Qt::ShiftModifier)) {
        const int d = delta.x() != 0 ? delta.x() : delta.y();
        m_owner->panBy(-d / 120.0 * 0.1);
    } else if (delta.y() != 0) {
        const double anchor = (event->position().x() - plotLeft) / width;
        m_owner->zoomBy(delta.y() > 0 ? 0.8 : 1.25, anchor);
    }
    event->accept();
}

void ChartView::keyPressEvent(QKeyEvent *event)
{
    switch (event->key()) {
    case Qt::Key_Left:
        m_owner->panBy(-0.1);
        break;
    case Qt::Key_Right:
        m_owner->panBy(0.1);
        break;
    case Qt::Key_Plus:
    case Qt::Key_Equal:
        m_owner->zoomBy(0.5);
        break;
    case Qt::Key_Minus:
        m_owner->zoomBy(2.0);
        break;
    default:
        QChartView::keyPressEvent(event);
        return;
    }
    event->accept();
}

void ChartView::showMenu(const QPoint &globalPos)
{
    m_owner->setFocus(Qt::PopupFocusReason); // the view's actions (export) act on the chart in focus
    QMenu menu(this);
    menu.setToolTipsVisible(true);
    if (!m_owner->m_contextActions.isEmpty()) {
        for (QAction *a : std::as_const(m_owner->m_contextActions)) {
            if (a)
                menu.addAction(a);
            else
                menu.addSeparator();
        }
        menu.exec(globalPos);
        return;
    }
    // A chart on its own (no view): its window's actions, and export.
    const ChartTimeWindow::Actions &w = m_owner->timeWindow()->actions();
    w.backToLive->setEnabled(!m_owner->isFollowingLive());
    menu.addAction(w.backToLive);
    menu.addAction(w.zoomOut);
    menu.addSeparator();
    QAction *exportAction = menu.addAction(QCoreApplication::translate("fleet::HealthChart", "Export…"));
    if (menu.exec(globalPos) == exportAction)
        Q_EMIT m_owner->exportRequested();
}

} // namespace fleet
