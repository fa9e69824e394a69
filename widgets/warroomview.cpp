#include "warroomview.h"

#include "incidentreplay.h"

#include "alertwatch.h"
#include "charttimewindow.h"
#include "connectionindicator.h"
#include "currentincident.h"
#include "fleetconnection.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthchart.h"
#include "healthmonitor.h"
#include "regionmodel.h"
#include "regionorder.h"

#include <QAction>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDateTime>
#include <QGridLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPainter>
#include <QScreen>
#include <QTimeZone>
#include <QVBoxLayout>
#include <QWindow>

#include <algorithm>
#include <cmath>

namespace fleet {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("fleet::WarRoomView", text);
}

QString utc(qint64 ms, const QString &format = QStringLiteral("HH:mm:ss"))
{
    return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc()).toString(format);
}

// "42 min", "3 h 12 min", "2 d 4 h": how long ago, for a room reading it at a glance.
QString roughAge(qint64 ms)
{
    const qint64 s = std::max<qint64>(0, ms) / 1000;
    if (s < 60)
        return tr("%1 s").arg(s);
    if (s < 3600)
        return tr("%1 min").arg(s / 60);
    if (s < 86400)
        return tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
    return tr("%1 d %2 h").arg(s / 86400).arg((s % 86400) / 3600);
}

QString statusWord(const QString &status)
{
    if (status == QLatin1String("investigating"))
        return tr("Investigating");
    if (status == QLatin1String("identified"))
        return tr("Identified");
    if (status == QLatin1String("monitoring"))
        return tr("Monitoring");
    if (status == QLatin1String("resolved"))
        return tr("Resolved");
    return status; // unknown words are the page's: shown as they are (plain text)
}

QString inFlight(const Operation &op)
{
    const QString progress
        = op.progressTotal > 0 ? tr(" (%1/%2)").arg(op.progressDone).arg(op.progressTotal) : QString();
    switch (op.type) {
    case OperationType::Provision:
        return tr("Provisioning %1 %2 workers in %3%4").arg(op.count).arg(wireName(op.arch), op.region, progress);
    case OperationType::DrainWorker:
        return tr("Draining worker %1 in %2").arg(op.worker, op.region);
    case OperationType::DrainRegion:
        return tr("Draining region %1%2").arg(op.region, progress);
    case OperationType::ResumeRegion:
        return tr("Resuming region %1").arg(op.region);
    case OperationType::Unknown:
        break;
    }
    return tr("Operation %1 in %2").arg(op.id, op.region);
}

} // namespace

// The verdict's glyph, drawn at any size: shape as well as colour.
class VerdictGlyph : public QWidget
{
public:
    using QWidget::QWidget;
    Verdict verdict = Verdict::NoData;
    Theme theme = Theme::current();

protected:
    void paintEvent(QPaintEvent *) override
    {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        const double side = std::min(width(), height()) - 2;
        paintVerdictGlyph(&p, QRectF((width() - side) / 2, (height() - side) / 2, side, side), verdict, theme);
    }
};

// One region: name, glyph and verdict word, the reason in words, workers by state, and its charts (packet loss;
// failures per minute by reason too when it is brought forward). A thick frame in the verdict's colour.
class WarRoomPanel : public QWidget
{
public:
    WarRoomPanel(FleetStore *store, ChartTimeWindow *window, QWidget *parent)
        : QWidget(parent)
        , m_glyph(new VerdictGlyph(this))
        , m_name(new QLabel(this))
        , m_verdict(new QLabel(this))
        , m_reason(new QLabel(this))
        , m_workers(new QLabel(this))
        , m_alerts(new QLabel(this))
    {
        for (QLabel *l : { m_name, m_verdict, m_reason, m_workers, m_alerts })
            l->setTextFormat(Qt::PlainText); // every string here is the server's or made from it: text, never markup
        m_name->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // a long name must not widen the panel
        m_reason->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        m_reason->setWordWrap(true);
        m_workers->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        m_alerts->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
        m_alerts->setWordWrap(true);
        m_alerts->hide();
        QFont bold = m_name->font();
        bold.setBold(true);
        m_name->setFont(bold);
        m_verdict->setFont(bold);

        // The console's series (healthchart.h), with the bare failure codes a wall has room for.
        m_loss = new HealthChart(tr("Packet loss"), tr("%"), this);
        m_loss->setSeries(packetLossSeries());
        m_failures = new HealthChart(tr("Build failures per minute"), QString(), this);
        m_failures->setSeries(failureSeries(false));
        m_failures->setMinimumYMax(5);
        for (HealthChart *chart : { m_loss, m_failures }) {
            chart->setTimeline(store ? &store->history() : nullptr);
            chart->setTimeWindow(window);
            chart->setMinimumSize(120, 80);
        }
        setThresholds(VerdictThresholds {});

        auto *head = new QHBoxLayout;
        head->addWidget(m_glyph);
        head->addWidget(m_name, 1);
        head->addWidget(m_verdict);
        m_charts = new QHBoxLayout;
        m_charts->addWidget(m_failures, 1);
        m_charts->addWidget(m_loss, 1);
        m_layout = new QVBoxLayout(this);
        m_layout->addLayout(head);
        m_layout->addWidget(m_reason);
        m_layout->addWidget(m_alerts);
        m_layout->addWidget(m_workers);
        m_layout->addLayout(m_charts, 1);
        setFeatured(false);
    }

    void setThresholds(const VerdictThresholds &t) { m_loss->setThresholds(packetLossLines(t)); }

    QString region;
    qint64 refreshedAtMs = -1000000;

    // `title` when brought forward ("EU Central (eu-central)"), `name` in the row of the others.
    void setState(const QString &title, const QString &name, Verdict verdict, const QString &reason,
        const QString &workers, bool stale)
    {
        m_title = title;
        m_shortName = name;
        m_name->setText(m_featuredFlag ? title : name);
        m_glyph->verdict = verdict;
        m_glyph->update();
        m_verdict->setText(verdictLabel(verdict).toUpper());
        m_reason->setText(stale ? tr("as of the last data: %1").arg(reason) : reason);
        m_workers->setText(workers);
        if (verdict != m_verdictValue || stale != m_stale) {
            m_verdictValue = verdict;
            m_stale = stale;
            applyColours();
        }
    }

    // The region's alerts from Alertmanager ("Alerts: 1 firing: FleetRegionPacketLoss"); hidden when empty.
    void setAlerts(const QString &text, bool firing)
    {
        if (m_alerts->text() != text)
            m_alerts->setText(text);
        m_alerts->setVisible(!text.isEmpty());
        if (firing != m_alertsFiring) {
            m_alertsFiring = firing;
            applyColours();
        }
    }
    QString alertsText() const { return m_alerts->text(); }

    void setFeatured(bool featured)
    {
        m_featuredFlag = featured;
        m_failures->setVisible(featured); // brought forward: why it fails, as well as the loss behind it
        m_name->setText(featured ? m_title : m_shortName);
    }
    bool isFeatured() const { return m_featuredFlag; }

    void setScale(double scale, int lineWidth)
    {
        const int base = std::max(12, int(std::lround(20 * scale)));
        QFont f = font();
        f.setPixelSize(base);
        setFont(f);
        QFont name = m_name->font();
        name.setPixelSize(int(std::lround(base * (m_featuredFlag ? 1.6 : 1.15))));
        m_name->setFont(name);
        m_verdict->setFont(name);
        const int glyph = QFontMetrics(name).height();
        m_glyph->setFixedSize(glyph, glyph);
        m_border = std::max(4, int(std::lround(6 * scale)));
        const int margin = int(std::lround(10 * scale));
        m_layout->setContentsMargins(margin + m_border, margin, margin, margin);
        m_layout->setSpacing(int(std::lround(4 * scale)));
        for (QLabel *l : { m_reason, m_workers, m_alerts })
            l->setFont(f);
        for (HealthChart *chart : { m_loss, m_failures }) {
            chart->setFont(f); // its axes and legend follow (HealthChart::changeEvent)
            chart->setLineWidth(lineWidth);
        }
    }

    void setTheme(const Theme &theme)
    {
        m_theme = theme;
        m_glyph->theme = theme;
        for (HealthChart *chart : { m_loss, m_failures })
            chart->setTheme(theme);
        applyColours();
    }

    void setStaleText(const QString &text)
    {
        for (HealthChart *chart : { m_loss, m_failures })
            chart->setStaleText(text);
    }

    void refreshCharts()
    {
        m_loss->refresh();
        if (m_featuredFlag)
            m_failures->refresh();
    }

    void setRegionOfCharts(const QString &id)
    {
        region = id;
        m_loss->setRegion(id);
        m_failures->setRegion(id);
    }

    QList<HealthChart *> charts() const { return { m_loss, m_failures }; }

protected:
    void paintEvent(QPaintEvent *) override
    {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        const QColor vc = m_stale ? m_theme.mutedText : m_theme.verdictColor(m_verdictValue);
        const QRectF r = QRectF(rect()).adjusted(2, 2, -2, -2);
        p.setPen(QPen(m_theme.grid, 1));
        p.setBrush(m_theme.surface);
        p.drawRoundedRect(r, 8, 8);
        // The verdict as a broad bar down the left edge and, when it is not healthy, a frame and a tint.
        p.setPen(Qt::NoPen);
        p.setBrush(vc);
        p.drawRoundedRect(QRectF(r.left(), r.top(), m_border, r.height()), 3, 3);
        if (m_verdictValue == Verdict::Degraded || m_verdictValue == Verdict::Down) {
            QColor tint = vc;
            tint.setAlpha(30);
            p.setBrush(tint);
            p.drawRoundedRect(r, 8, 8);
            p.setBrush(Qt::NoBrush);
            p.setPen(QPen(vc, std::max(2, m_border / 2)));
            p.drawRoundedRect(r.adjusted(1, 1, -1, -1), 8, 8);
        }
    }

private:
    void applyColours()
    {
        // Colours through the palette, not style sheets: a style sheet would stop the type from following the
        // screen's size.
        const QColor vc = m_stale ? m_theme.mutedText : m_theme.verdictColor(m_verdictValue);
        auto colour = [](QLabel *label, const QColor &c) {
            QPalette pal = label->palette();
            pal.setColor(QPalette::WindowText, c);
            label->setPalette(pal);
        };
        colour(m_verdict, vc);
        colour(m_name, m_theme.text);
        colour(m_reason, m_theme.text);
        colour(m_workers, m_theme.mutedText);
        colour(m_alerts, m_alertsFiring && !m_stale ? m_theme.degraded : m_theme.text);
        update();
    }

    VerdictGlyph *m_glyph;
    QLabel *m_name;
    QLabel *m_verdict;
    QLabel *m_reason;
    QLabel *m_workers;
    QLabel *m_alerts;
    bool m_alertsFiring = false;
    HealthChart *m_loss;
    HealthChart *m_failures;
    QHBoxLayout *m_charts;
    QVBoxLayout *m_layout;
    Theme m_theme = Theme::current();
    Verdict m_verdictValue = Verdict::NoData;
    bool m_stale = false;
    bool m_featuredFlag = false;
    int m_border = 6;
    QString m_title;
    QString m_shortName;
};

// Over the whole screen when the data is not live: nobody in the room may take old numbers for the fleet's state.
class WarRoomVeil : public QWidget
{
public:
    explicit WarRoomVeil(QWidget *parent)
        : QWidget(parent)
    {
        setAttribute(Qt::WA_TransparentForMouseEvents);
        hide();
    }

    QString title;
    QString detail;
    Theme theme = Theme::current();

protected:
    void paintEvent(QPaintEvent *) override
    {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        QColor veil = theme.window;
        veil.setAlpha(175); // the charts stay faintly visible behind it: stale, not gone
        p.fillRect(rect(), veil);
        const double s = std::max(0.6, height() / 1080.0);
        QFont big = font();
        big.setBold(true);
        big.setPixelSize(int(std::lround(64 * s)));
        QFont small = font();
        small.setPixelSize(int(std::lround(28 * s)));
        const QFontMetricsF bfm(big);
        const QFontMetricsF sfm(small);
        const double width = std::min(double(this->width()) * 0.9, std::max(bfm.horizontalAdvance(title), 900 * s));
        const QRectF textBox(0, 0, width - 60 * s, 10000);
        const QRectF detailBounds = sfm.boundingRect(textBox, Qt::TextWordWrap | Qt::AlignHCenter, detail);
        const double h = bfm.height() + detailBounds.height() + 80 * s;
        const QRectF box((this->width() - width) / 2, (height() - h) / 2, width, h);
        p.setPen(QPen(theme.stale.darker(130), 4 * s));
        p.setBrush(theme.stale);
        p.drawRoundedRect(box, 16 * s, 16 * s);
        const QColor onBanner = theme.kind == Theme::Kind::Dark ? QColor(0x10, 0x12, 0x16) : QColor(Qt::white);
        p.setPen(onBanner);
        p.setFont(big);
        p.drawText(QRectF(box.left(), box.top() + 30 * s, box.width(), bfm.height()), Qt::AlignCenter, title);
        p.setFont(small);
        p.drawText(QRectF(box.left() + 30 * s, box.top() + 40 * s + bfm.height(), box.width() - 60 * s,
                       detailBounds.height() + 4),
            Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, detail);
    }
};

WarRoomView::WarRoomView(FleetSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_theme(Theme::current())
    , m_window(new ChartTimeWindow(this))
{
    setWindowTitle(tr("Fleet Console — war room"));
    setObjectName(QStringLiteral("WarRoomView"));
    setFocusPolicy(Qt::StrongFocus);
    setAttribute(Qt::WA_DeleteOnClose, false);
    m_window->showLast(3600); // an hour: long enough to see how it began
    m_sinceStart.start();

    m_fleet = new QLabel(this);
    m_indicator = new ConnectionIndicator(this);
    m_incident = new QLabel(this);
    m_operations = new QLabel(this);
    m_clock = new QLabel(this);
    m_clockNote = new QLabel(this);
    m_footer = new QLabel(this);
    m_alertStatus = new QLabel(this);
    m_alertStatus->setAccessibleName(tr("Alertmanager"));
    m_alertStatus->setWordWrap(true);
    m_alertStatus->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_alertStatus->hide();
    for (QLabel *l : { m_fleet, m_incident, m_operations, m_clock, m_clockNote, m_footer, m_alertStatus })
        l->setTextFormat(Qt::PlainText);
    m_incident->setWordWrap(true);
    m_operations->setWordWrap(true);
    m_incident->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_operations->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_clock->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_clockNote->setAlignment(Qt::AlignRight | Qt::AlignTop);
    m_incident->setAccessibleName(tr("Current incident"));
    m_operations->setAccessibleName(tr("Operations in flight"));
    m_clock->setAccessibleName(tr("Clock, UTC"));

    auto *left = new QVBoxLayout;
    left->addWidget(m_fleet);
    left->addWidget(m_indicator);
    if (session) {
        const auto replaying = [this] {
            // A replay has no connection (the clock says REPLAY) and its newest data is the replay's, not live.
            m_indicator->setVisible(!m_session->isReplaying());
            m_window->setEdgeName(m_session->isReplaying() ? tr("replay") : tr("live"));
        };
        connect(session, &FleetSession::replayChanged, this, replaying);
        replaying();
    }
    left->addWidget(m_alertStatus);
    auto *head = new QHBoxLayout;
    head->addLayout(left, 3);
    head->addWidget(m_incident, 5);
    head->addWidget(m_operations, 4);
    auto *clockBox = new QVBoxLayout;
    clockBox->setSpacing(0);
    clockBox->addWidget(m_clock);
    clockBox->addWidget(m_clockNote);
    head->addLayout(clockBox, 2);

    m_featuredArea = new QWidget(this);
    m_featuredGrid = new QGridLayout(m_featuredArea);
    m_featuredGrid->setContentsMargins(0, 0, 0, 0);
    m_restArea = new QWidget(this);
    m_restGrid = new QGridLayout(m_restArea);
    m_restGrid->setContentsMargins(0, 0, 0, 0);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(head);
    layout->addWidget(m_featuredArea, 3);
    layout->addWidget(m_restArea, 2);
    layout->addWidget(m_footer);

    m_veil = new WarRoomVeil(this);

    if (session) {
        RegionModel *model = session->regionModel();
        auto dirty = [this] { m_regionsDirty = true; };
        connect(model, &QAbstractItemModel::dataChanged, this, dirty);
        connect(model, &QAbstractItemModel::rowsInserted, this, dirty);
        connect(model, &QAbstractItemModel::rowsRemoved, this, dirty);
        connect(model, &QAbstractItemModel::modelReset, this, dirty);
        connect(session->healthMonitor(), &HealthMonitor::verdictChanged, this, [this] {
            m_regionsDirty = true;
            syncRegions(); // a region turning degraded comes forward at once
        });
        connect(session->store(), &FleetStore::healthChanged, this, [this] { m_chartsDirty = true; });
        connect(session->healthMonitor(), &HealthMonitor::thresholdsChanged, this, [this](const VerdictThresholds &t) {
            for (WarRoomPanel *panel : std::as_const(m_panels))
                panel->setThresholds(t);
        });
        connect(session->currentIncident(), &CurrentIncident::changed, this, &WarRoomView::updateIncident);
        session->currentIncident()->addWatcher(this);
        auto attach = [this](FleetConnection *connection) {
            m_indicator->setConnection(connection, m_session->profile().url.host());
        };
        connect(session, &FleetSession::connectionChanged, this, attach);
        attach(session->connection());
        // A wall asks nobody for a token: it says on the screen what is missing and how to start it.
        connect(session, &FleetSession::credentialsNeeded, this,
            [this](const ConnectionProfile &profile, const QString &why) {
                m_credentialsProblem = tr("Cannot connect to %1: %2").arg(profile.name, why);
                updateStale();
            });
        connect(session, &FleetSession::connectionChanged, this, [this](FleetConnection *connection) {
            if (connection)
                m_credentialsProblem.clear();
        });
    }
    m_tick.setObjectName(QStringLiteral("WarRoomView tick"));
    m_tick.setInterval(500);
    connect(&m_tick, &QTimer::timeout, this, &WarRoomView::tick);
    m_tick.start();
    // Each region's charts redraw at most four times a second when new data arrived, one region per tick: a 4K frame
    // of every chart at once holds the event loop for tens of milliseconds, one region's a sixth of that.
    m_chartTimer.setObjectName(QStringLiteral("WarRoomView charts"));
    m_chartTimer.setInterval(40);
    connect(&m_chartTimer, &QTimer::timeout, this, [this] {
        if (m_chartsDirty) {
            m_chartsDirty = false;
            m_owed = m_order; // every region owes a redraw, in the order shown (the worst first)
        }
        const qint64 now = m_sinceStart.elapsed();
        for (qsizetype i = 0; i < m_owed.size(); ++i) {
            WarRoomPanel *panel = m_panels.value(m_owed[i]);
            if (!panel) {
                m_owed.removeAt(i--);
                continue;
            }
            if (now - panel->refreshedAtMs < 230)
                continue; // drawn less than a quarter second ago: its turn comes
            panel->refreshedAtMs = now;
            panel->refreshCharts();
            m_owed.removeAt(i);
            break; // one region a tick
        }
    });
    m_chartTimer.start();

    lockDown(this);
    QPalette pal = palette();
    pal.setColor(QPalette::Window, m_theme.window);
    setPalette(pal);
    setAutoFillBackground(true);
    applyScale();
    refreshNow();
}

WarRoomView::~WarRoomView() = default;

QKeySequence WarRoomView::exitChord()
{
    return QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Q);
}

void WarRoomView::showOnScreen(QScreen *screen)
{
    if (!screen)
        screen = QGuiApplication::primaryScreen();
    if (screen) {
        setGeometry(screen->geometry());
        if (QWindow *w = windowHandle())
            w->setScreen(screen);
    }
    showFullScreen();
    activateWindow();
    setFocus();
}

void WarRoomView::lockDown(QWidget *widget)
{
    // Read-only: nothing below the view takes focus or a click, and no action (a chart's own pause/zoom/pan ones
    // included) can be triggered from here.
    const QList<QWidget *> children = widget->findChildren<QWidget *>();
    for (QWidget *child : children) {
        child->setFocusPolicy(Qt::NoFocus);
        child->setAttribute(Qt::WA_TransparentForMouseEvents);
        child->setContextMenuPolicy(Qt::NoContextMenu);
    }
    const QList<QAction *> actions = widget->findChildren<QAction *>();
    for (QAction *action : actions) {
        action->setEnabled(false);
        action->setShortcut(QKeySequence());
    }
}

bool WarRoomView::event(QEvent *event)
{
    // Every key is ours: no shortcut of another window or of the application fires from the wall.
    if (event->type() == QEvent::ShortcutOverride) {
        event->accept();
        return true;
    }
    return QWidget::event(event);
}

void WarRoomView::keyPressEvent(QKeyEvent *event)
{
    const QKeySequence pressed(event->keyCombination());
    if (pressed == exitChord()) {
        m_exiting = true;
        Q_EMIT exitRequested();
    }
    event->accept(); // anything else does nothing
}

void WarRoomView::closeEvent(QCloseEvent *event)
{
    // The window manager's close (Alt+F4, a stray click on a title bar) is ignored: only the chord, or the
    // application quitting, closes the wall.
    if (event->spontaneous() && !m_exiting) {
        event->ignore();
        return;
    }
    QWidget::closeEvent(event);
}

void WarRoomView::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    m_veil->setGeometry(rect());
    applyScale();
}

void WarRoomView::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::ApplicationPaletteChange && Theme::current().kind != m_theme.kind) {
        m_theme = Theme::current();
        QPalette pal = palette();
        pal.setColor(QPalette::Window, m_theme.window);
        setPalette(pal);
        m_veil->theme = m_theme;
        for (WarRoomPanel *panel : std::as_const(m_panels))
            panel->setTheme(m_theme);
        refreshNow();
    }
}

int WarRoomView::lineWidth() const
{
    // 2 px at 1080 lines, 3 px at 4K: from across the room a 1 px line disappears.
    return std::max(2, int(std::lround(1.5 * m_scale)));
}

void WarRoomView::applyScale()
{
    m_scale = std::clamp(height() / 1080.0, 0.6, 4.0);
    const int base = std::max(12, int(std::lround(20 * m_scale)));
    QFont f = font();
    f.setPixelSize(base);
    setFont(f);
    QFont big = f;
    big.setBold(true);
    big.setPixelSize(int(std::lround(base * 1.5)));
    m_fleet->setFont(big);
    QFont clock = big;
    clock.setPixelSize(base * 2);
    m_clock->setFont(clock);
    QFont incident = f;
    incident.setPixelSize(int(std::lround(base * 1.2)));
    m_incident->setFont(incident);
    QFont footer = f;
    footer.setPixelSize(std::max(11, int(std::lround(base * 0.7))));
    m_footer->setFont(footer);
    const int gap = int(std::lround(12 * m_scale));
    if (QLayout *l = layout()) {
        l->setContentsMargins(gap, gap, gap, gap / 2);
        l->setSpacing(gap);
    }
    m_featuredGrid->setSpacing(gap);
    m_restGrid->setSpacing(gap);
    for (WarRoomPanel *panel : std::as_const(m_panels))
        panel->setScale(m_scale, lineWidth());
    m_veil->update();
}

QList<HealthChart *> WarRoomView::charts() const
{
    QList<HealthChart *> out;
    for (const QString &id : m_order) {
        if (WarRoomPanel *panel = m_panels.value(id)) {
            for (HealthChart *chart : panel->charts()) {
                if (chart->isVisibleTo(panel))
                    out.append(chart);
            }
        }
    }
    return out;
}

QStringList WarRoomView::regionOrder() const
{
    return m_order;
}

QStringList WarRoomView::featuredRegions() const
{
    return m_featured;
}

bool WarRoomView::isStaleShown() const
{
    return m_veil->isVisible();
}

QString WarRoomView::staleText() const
{
    return m_veil->isVisible() ? m_veil->title + QLatin1Char('\n') + m_veil->detail : QString();
}

QString WarRoomView::incidentText() const
{
    return m_incident->text();
}

QString WarRoomView::alertsLine(const QList<AmAlert> &alerts, bool stale)
{
    const QString brief = AlertWatch::brief(alerts);
    if (brief.isEmpty())
        return {};
    return stale ? tr("Alerts (as of the last answer): %1").arg(brief) : tr("Alerts: %1").arg(brief);
}

QString WarRoomView::alertsText(const QString &region) const
{
    const AlertWatch *watch = m_session ? m_session->alertWatch() : nullptr;
    return watch ? alertsLine(watch->alertsFor(region), watch->isStale()) : QString();
}

QString WarRoomView::alertStatusText() const
{
    return m_alertStatus->isVisibleTo(this) ? m_alertStatus->text() : QString();
}

void WarRoomView::updateAlertStatus()
{
    const AlertWatch *watch = m_session ? m_session->alertWatch() : nullptr;
    m_alertStatus->setVisible(watch);
    if (!watch)
        return;
    int firing = 0;
    for (const AmAlert &a : watch->alerts())
        firing += a.state == QLatin1String("active") ? 1 : 0;
    const QString text = (firing == 1 ? tr("1 alert firing · %1") : tr("%1 alerts firing · %2").arg(firing))
                             .arg(watch->statusText(QDateTime::currentMSecsSinceEpoch()));
    if (m_alertStatus->text() != text)
        m_alertStatus->setText(text);
    QPalette palette = m_alertStatus->palette();
    palette.setColor(QPalette::WindowText, watch->isStale() ? m_theme.degraded : m_theme.text);
    m_alertStatus->setPalette(palette);
}

QString WarRoomView::operationsText() const
{
    return m_operations->text();
}

QString WarRoomView::clockText() const
{
    return m_clock->text();
}

void WarRoomView::refreshNow()
{
    m_regionsDirty = true;
    tick();
    for (WarRoomPanel *panel : std::as_const(m_panels))
        panel->refreshCharts();
    m_chartsDirty = false;
}

void WarRoomView::tick()
{
    if (m_regionsDirty)
        syncRegions();
    updateStale();
    updateIncident();
    updateOperations();
    // The clock: the fleet's, which is UTC wall time for a real fleet; a simulated fleet's own day says so.
    const qint64 wall = QDateTime::currentMSecsSinceEpoch();
    qint64 fleetNow = wall;
    if (m_session) {
        const qint64 latest = m_session->store()->history().latestSecond();
        const qint64 age = m_session->status().dataAgeMs();
        if (latest > 0)
            fleetNow = latest * 1000 + std::max<qint64>(0, age);
    }
    const bool simulated = std::abs(fleetNow - wall) > 120000;
    const IncidentReplay *replay = m_session ? m_session->replay() : nullptr;
    if (replay)
        fleetNow = replay->positionMs();
    m_clock->setText(tr("%1 UTC").arg(utc(fleetNow)));
    // A replay says so where the time is read, in the colour of nothing live.
    const QString note = replay ? tr("REPLAY · %1")
                                      .arg(replay->isAtEnd()        ? tr("ended")
                                              : replay->isPlaying() ? tr("%1x").arg(replay->speed())
                                                                    : tr("paused"))
        : simulated ? tr("simulated fleet time")
                    : tr("now");
    m_clockNote->setText(note);
    m_clockNote->setStyleSheet(replay ? QStringLiteral("QLabel { color: #ffb020; font-weight: bold; }") : QString());
    QString footer = tr("Read-only wall display · every region, worst first · %1 exits")
                         .arg(exitChord().toString(QKeySequence::NativeText));
    if (m_session && m_session->identity()) {
        const Role role = m_session->identity()->role;
        footer += role == Role::Viewer
            ? tr(" · viewer token")
            : tr(" · this token can act (%1 role): a viewer token is enough for a wall display")
                  .arg(wireName(role).toString());
    }
    if (m_footer->text() != footer)
        m_footer->setText(footer);
    if (m_session) {
        const ConnectionProfile &p = m_session->profile();
        const QString name = p.name.isEmpty() ? p.url.host() : p.name;
        m_fleet->setText(m_session->isReplaying() ? tr("REPLAY · %1").arg(m_session->replay()->name())
                : p.production                    ? tr("%1 · PRODUCTION").arg(name)
                                                  : name);
    }
}

void WarRoomView::syncRegions()
{
    m_regionsDirty = false;
    if (!m_session)
        return;
    // The session's order, worst first, as the console's overview shows it (never a sort of our own).
    const RegionOrder *model = m_session->regionOrder();
    struct Row
    {
        QString id;
        QString name;
        Verdict verdict;
        int severity;
        QString reason;
        QString workers;
    };
    QList<Row> rows;
    for (int r = 0; r < model->rowCount(); ++r) {
        const QModelIndex i = model->index(r, 0);
        Row row;
        row.id = i.data(RegionModel::IdRole).toString();
        row.name = i.data(RegionModel::NameRole).toString();
        row.verdict = m_session->healthMonitor()->verdict(row.id); // from the one judge; the order is the session's
        row.severity = i.data(RegionModel::SeverityRole).toInt();
        row.reason = m_session->healthMonitor()->reason(row.id);
        QString workers = tr("%1 busy · %2 idle · %3 offline")
                              .arg(i.data(RegionModel::BusyWorkersRole).toInt())
                              .arg(i.data(RegionModel::IdleWorkersRole).toInt())
                              .arg(i.data(RegionModel::OfflineWorkersRole).toInt());
        if (const int n = i.data(RegionModel::ProvisioningWorkersRole).toInt())
            workers += tr(" · %1 starting").arg(n);
        if (const int n = i.data(RegionModel::DrainingWorkersRole).toInt())
            workers += tr(" · %1 draining").arg(n);
        const auto dispatch = DispatchState(i.data(RegionModel::DispatchStateRole).toInt());
        if (dispatch != DispatchState::Active)
            workers += tr(" · dispatch %1").arg(wireName(dispatch));
        row.workers = workers;
        rows.append(row);
    }

    QStringList order;
    QStringList featured;
    const bool stale = m_veil->isVisible();
    for (const Row &row : std::as_const(rows)) {
        order.append(row.id);
        if (row.verdict == Verdict::Degraded || row.verdict == Verdict::Down)
            featured.append(row.id);
        WarRoomPanel *panel = m_panels.value(row.id);
        if (!panel) {
            panel = new WarRoomPanel(m_session->store(), m_window, this);
            panel->setThresholds(m_session->healthMonitor()->thresholds()); // the session's lines, not defaults
            panel->setRegionOfCharts(row.id);
            panel->setTheme(m_theme);
            lockDown(panel);
            panel->setAttribute(Qt::WA_TransparentForMouseEvents);
            panel->setFocusPolicy(Qt::NoFocus);
            m_panels.insert(row.id, panel);
            m_chartsDirty = true;
        }
        const QString title = row.name.isEmpty() || row.name == row.id ? row.id : tr("%1 (%2)").arg(row.name, row.id);
        panel->setState(title, row.name.isEmpty() ? row.id : row.name, row.verdict, row.reason, row.workers, stale);
        const AlertWatch *watch = m_session->alertWatch();
        const QList<AmAlert> alerts = watch ? watch->alertsFor(row.id) : QList<AmAlert>();
        bool firing = false;
        for (const AmAlert &a : alerts)
            firing = firing || a.state == QLatin1String("active");
        panel->setAlerts(watch ? alertsLine(alerts, watch->isStale()) : QString(), firing);
    }
    updateAlertStatus();
    // Regions the fleet no longer has leave with their widgets: the count never grows beyond the fleet's.
    const QStringList known = m_panels.keys();
    for (const QString &id : known) {
        if (!order.contains(id))
            m_panels.take(id)->deleteLater();
    }
    m_order = order;
    m_featured = featured.size() == order.size() ? QStringList() : featured; // all in trouble: all the same size
    relayout();
}

void WarRoomView::relayout()
{
    const QString key = m_order.join(QLatin1Char(',')) + QLatin1Char('|') + m_featured.join(QLatin1Char(','));
    if (key == m_layoutKey)
        return;
    m_layoutKey = key;
    for (WarRoomPanel *panel : std::as_const(m_panels)) {
        m_featuredGrid->removeWidget(panel);
        m_restGrid->removeWidget(panel);
    }
    QStringList rest;
    for (const QString &id : std::as_const(m_order)) {
        if (!m_featured.contains(id))
            rest.append(id);
    }
    // Brought forward: the troubled regions side by side (two rows beyond three), charts large.
    const int fn = int(m_featured.size());
    const int fcols = fn <= 3 ? std::max(1, fn) : (fn + 1) / 2;
    for (int k = 0; k < fn; ++k) {
        WarRoomPanel *panel = m_panels.value(m_featured[k]);
        panel->setParent(m_featuredArea);
        panel->setFeatured(true);
        m_featuredGrid->addWidget(panel, k / fcols, k % fcols);
        panel->show();
    }
    // The others: one row beneath them, or, with nothing in trouble, a grid of equals filling the screen.
    const int rn = int(rest.size());
    const int rcols = fn > 0 ? std::max(1, rn) : std::max(1, int(std::ceil(std::sqrt(double(rn) * 1.8))));
    for (int k = 0; k < rn; ++k) {
        WarRoomPanel *panel = m_panels.value(rest[k]);
        panel->setParent(m_restArea);
        panel->setFeatured(fn == 0 && m_order.size() <= 6); // a calm fleet of up to six shows both charts
        m_restGrid->addWidget(panel, k / rcols, k % rcols);
        panel->show();
    }
    for (int c = 0; c < 8; ++c) {
        m_featuredGrid->setColumnStretch(c, c < fcols ? 1 : 0);
        m_restGrid->setColumnStretch(c, c < rcols ? 1 : 0);
    }
    m_featuredArea->setVisible(fn > 0);
    if (auto *box = qobject_cast<QVBoxLayout *>(layout())) {
        box->setStretchFactor(m_featuredArea, 3);
        box->setStretchFactor(m_restArea, fn > 0 ? 1 : 3);
    }
    for (WarRoomPanel *panel : std::as_const(m_panels))
        panel->setScale(m_scale, lineWidth());
    m_veil->raise();
    m_chartsDirty = true;
}

void WarRoomView::updateStale()
{
    if (!m_session)
        return;
    const ConnectionStatus status = m_session->status();
    const qint64 age = status.dataAgeMs();
    const QString host = m_session->profile().url.host();
    QString title;
    QString detail;
    if (m_session->isReplaying()) {
        // A recording is never stale: its clock is the replay's (the header says REPLAY).
    } else if (!m_session->connection()) {
        title = tr("NOT CONNECTED");
        detail = m_credentialsProblem.isEmpty()
            ? tr("This display is not connected to a fleet. Start it with --api URL (the token in FLEET_TOKEN or "
                 "--token-file) or --profile NAME.")
            : tr("%1\nStart the display with the token in FLEET_TOKEN or --token-file, or keep it in the profile "
                 "from the console's File > Connect.")
                  .arg(m_credentialsProblem);
    } else if (age < 0) {
        title = tr("NO DATA YET");
        detail = status.reason.isEmpty() ? tr("Connecting to %1…").arg(host)
                                         : tr("Connecting to %1: %2").arg(host, status.reason);
    } else if (status.state != ConnectionState::Live || age > 5000) {
        title = tr("DATA IS NOT LIVE");
        const qint64 lastMs = QDateTime::currentMSecsSinceEpoch() - age;
        QString why;
        switch (status.state) {
        case ConnectionState::Live:
            why = tr("The connection to %1 is open, but no new data for %2.")
                      .arg(host, ConnectionIndicator::formatAge(age));
            break;
        case ConnectionState::Reconnecting:
        case ConnectionState::Connecting: {
            const qint64 next = status.nextAttemptInMs();
            why = tr("Connection to %1 lost: %2. Reconnecting by itself (attempt %3%4).")
                      .arg(host, status.reason.isEmpty() ? tr("no answer") : status.reason)
                      .arg(status.attempt)
                      .arg(next > 0 ? tr(", next try in %1 s").arg((next + 999) / 1000) : QString());
            break;
        }
        case ConnectionState::Offline:
            why = tr("Offline: %1.").arg(status.reason.isEmpty() ? tr("the connection was closed") : status.reason);
            break;
        }
        detail = tr("%1\nEverything on this screen is from %2 UTC (local clock), %3 ago.")
                     .arg(why, utc(lastMs), ConnectionIndicator::formatAge(age));
    }
    const bool show = !title.isEmpty();
    if (show != m_veil->isVisible() || title != m_veil->title || detail != m_veil->detail) {
        const bool changed = show != m_veil->isVisible();
        m_veil->title = title;
        m_veil->detail = detail;
        m_veil->setGeometry(rect());
        m_veil->setVisible(show);
        m_veil->raise();
        m_veil->update();
        if (changed) {
            const QString chartText
                = show ? tr("STALE · last data %1 ago").arg(ConnectionIndicator::formatAge(age)) : QString();
            for (WarRoomPanel *panel : std::as_const(m_panels))
                panel->setStaleText(age >= 0 ? chartText : QString());
            syncRegions(); // the tiles say "as of the last data"
        }
    }
}

void WarRoomView::updateIncident()
{
    if (!m_session)
        return;
    CurrentIncident *current = m_session->currentIncident();
    QString text;
    if (!current->isConfigured()) {
        text = tr("No incident · no status page configured");
    } else if (const auto &incident = current->incident()) {
        const qint64 latest = m_session->store()->history().latestSecond();
        const qint64 now = latest > 0 ? latest * 1000 + std::max<qint64>(0, m_session->status().dataAgeMs())
                                      : QDateTime::currentMSecsSinceEpoch();
        const qint64 last = current->lastPublicUpdateMs();
        text = tr("Incident: %1\n%2 · began %3 ago (%4 UTC) · last public update %5")
                   .arg(incident->name, statusWord(incident->status).toUpper(), roughAge(now - incident->createdAt),
                       utc(incident->createdAt, QStringLiteral("HH:mm")),
                       last > 0 ? tr("%1 ago").arg(roughAge(now - last)) : tr("none yet"));
        if (!current->error().isEmpty())
            text += tr("\nStatus page not readable now: %1").arg(current->error());
    } else if (!current->error().isEmpty()) {
        text = tr("Status page not readable: %1").arg(current->error());
    } else if (current->readAtMs() == 0) {
        text = tr("Reading the status page…");
    } else {
        text = tr("No incident on the status page");
    }
    if (m_incident->text() != text)
        m_incident->setText(text);
}

void WarRoomView::updateOperations()
{
    if (!m_session)
        return;
    QStringList lines;
    int n = 0;
    for (const Operation &op : m_session->store()->operations()) {
        if (isTerminal(op.state))
            continue;
        ++n;
        if (lines.size() < 3)
            lines.append(inFlight(op));
    }
    QString text = n == 0 ? tr("No operations in flight")
                          : (n == 1 ? tr("1 operation in flight") : tr("%1 operations in flight").arg(n));
    if (!lines.isEmpty())
        text += QLatin1Char('\n') + lines.join(QLatin1Char('\n'));
    if (n > lines.size())
        text += tr("\n… and %1 more").arg(n - lines.size());
    if (m_operations->text() != text)
        m_operations->setText(text);
}

} // namespace fleet
