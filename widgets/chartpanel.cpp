#include "chartpanel.h"

#include "charttimewindow.h"
#include "fleetstore.h"

#include <QAction>
#include <QButtonGroup>
#include <QCoreApplication>
#include <QEvent>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace fleet {

namespace {

QString describeOperation(const Operation &op)
{
    auto tr = [](const char *s) { return QCoreApplication::translate("fleet::ChartPanel", s); };
    switch (op.type) {
    case OperationType::Provision:
        return tr("Provision %1 %2 workers in %3").arg(op.count).arg(wireName(op.arch), op.region);
    case OperationType::DrainWorker:
        return tr("Drain worker %1").arg(op.worker);
    case OperationType::DrainRegion:
        return tr("Drain region %1").arg(op.region);
    case OperationType::ResumeRegion:
        return tr("Resume region %1").arg(op.region);
    case OperationType::Unknown:
        break;
    }
    return tr("Operation %1 (unknown type)").arg(op.id);
}

} // namespace

const QList<int> &ChartPanel::spans()
{
    return ChartTimeWindow::presetSpans();
}

ChartPanel::ChartPanel(FleetStore *store, ChartTimeWindow *window, QWidget *parent)
    : QWidget(parent)
    , m_store(store)
    , m_window(window ? window : new ChartTimeWindow(this))
    , m_theme(Theme::current())
{
    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::PlainText); // region names come from the server: text, never markup
    QFont big = m_title->font();
    big.setPointSizeF(big.pointSizeF() * 1.35);
    big.setBold(true);
    m_title->setFont(big);
    m_title->setAccessibleName(tr("Focused region"));
    // A region name is the server's: however long, it must not widen the window. The label takes the space there
    // is and the whole name is in its tooltip.
    m_title->setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Preferred);
    m_title->setMinimumWidth(120);

    m_verdict = new QLabel(this);
    m_verdict->setTextFormat(Qt::PlainText);
    m_verdict->setAccessibleName(tr("Verdict of the focused region"));
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_verdict->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    // Narrow windows (a 1366x768 laptop): the reason wraps to a second line rather than being cut off.
    m_verdict->setWordWrap(true);

    auto *header = new QHBoxLayout;
    header->addWidget(m_title);
    header->addSpacing(12);
    header->addWidget(m_verdict, 1);
    m_rangeButtons = new QButtonGroup(this);
    const QList<int> &s = spans();
    for (int i = 0; i < s.size(); ++i) {
        auto *b = new QToolButton(this);
        b->setText(formatSpan(s[i]));
        b->setCheckable(true);
        b->setToolTip(tr("Show the last %1 (%2)")
                          .arg(formatSpan(s[i]),
                              m_window->actions().spans.value(i)
                                  ? m_window->actions().spans[i]->shortcut().toString(QKeySequence::NativeText)
                                  : QString()));
        b->setAccessibleName(tr("Time range %1").arg(formatSpan(s[i])));
        m_rangeButtons->addButton(b, s[i]);
        header->addWidget(b);
    }
    if (QAbstractButton *b = m_rangeButtons->button(m_window->spanSeconds()))
        b->setChecked(true);
    connect(m_rangeButtons, &QButtonGroup::idClicked, this, &ChartPanel::setSpanSeconds);
    m_liveButton = new QToolButton(this);
    m_liveButton->setAccessibleName(tr("Pause or return to live"));
    m_liveButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    connect(m_liveButton, &QToolButton::clicked, this, &ChartPanel::togglePause);
    header->addSpacing(12);
    header->addWidget(m_liveButton);

    // The series are defined once for every view (healthchart.h); the titles are this panel's.
    auto *failures = new HealthChart(tr("Build failures per minute, by reason"), QString(), this);
    failures->setSeries(failureSeries(true));
    failures->setMinimumYMax(5);
    auto *loss = new HealthChart(tr("Packet loss"), tr("%"), this);
    loss->setSeries(packetLossSeries());
    auto *rtt = new HealthChart(tr("Round-trip time p95"), tr("ms"), this);
    rtt->setSeries(rttSeries());
    auto *workers = new HealthChart(tr("Workers by state"), QString(), this);
    workers->setSeries(workerSeries());
    auto *queue = new HealthChart(tr("Build queue"), QString(), this);
    queue->setSeries(queueSeries());
    m_charts = { failures, loss, rtt, workers, queue };

    auto *grid = new QGridLayout;
    grid->setSpacing(6);
    grid->addWidget(failures, 0, 0, 1, 2);
    grid->addWidget(loss, 1, 0);
    grid->addWidget(rtt, 1, 1);
    grid->addWidget(workers, 2, 0);
    grid->addWidget(queue, 2, 1);
    grid->setRowStretch(0, 5);
    grid->setRowStretch(1, 4);
    grid->setRowStretch(2, 4);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(header);
    m_next = new QLabel(this);
    m_next->setTextFormat(Qt::PlainText);
    m_next->setObjectName(QStringLiteral("nextSteps"));
    m_next->setWordWrap(true);
    m_next->hide();
    layout->addWidget(m_next);
    m_alerts = new QLabel(this);
    m_alerts->setTextFormat(Qt::PlainText); // alert names and summaries are the server's words: text, never markup
    m_alerts->setObjectName(QStringLiteral("regionAlerts"));
    m_alerts->setWordWrap(true);
    m_alerts->hide();
    layout->addWidget(m_alerts);
    layout->addLayout(grid, 1);
    m_sourceNote = new QLabel(this);
    m_sourceNote->setTextFormat(Qt::PlainText); // Prometheus's words (its warnings) are shown as text, never rendered
    m_sourceNote->setObjectName(QStringLiteral("historySource"));
    m_sourceNote->setWordWrap(true);
    m_sourceNote->hide();
    layout->addWidget(m_sourceNote);

    for (HealthChart *chart : std::as_const(m_charts)) {
        chart->setTimeline(store ? &store->history() : nullptr);
        chart->setTimeWindow(m_window); // one window: moving one chart moves them all
        connect(chart, &HealthChart::exportRequested, this, [this, chart] { Q_EMIT exportRequested(chart); });
    }
    connect(m_window, &ChartTimeWindow::followLiveChanged, this, [this](bool following) {
        updateHeader();
        Q_EMIT followLiveChanged(following);
    });
    connect(m_window, &ChartTimeWindow::spanChanged, this, [this](int seconds) {
        if (QAbstractButton *b = m_rangeButtons->button(seconds))
            b->setChecked(true);
        Q_EMIT spanChanged(seconds);
    });
    // Zoom and pan keys act on the charts while they have focus (elsewhere the arrows move through tables).
    for (QAction *a : { m_window->actions().zoomIn, m_window->actions().zoomOut, m_window->actions().panBack,
             m_window->actions().panForward }) {
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        addAction(a);
    }
    setThresholds(VerdictThresholds {});

    if (store) {
        connect(store, &FleetStore::healthChanged, this, [this] { m_dirty = true; });
        EntityTable *operations = store->operationTable();
        connect(operations, &EntityTable::inserted, this, [this] { m_markersDirty = true; });
        connect(operations, &EntityTable::reset, this, [this] { m_markersDirty = true; });
        connect(operations, &EntityTable::changed, this, [this] { m_markersDirty = true; });
        connect(operations, &EntityTable::removed, this, [this] { m_markersDirty = true; });
    }
    // Charts redraw at most four times a second: data arrives every second at most in real time, and more often
    // only in a sped-up demo where four frames a second still reads as live. A round moves the shared window to the
    // newest second once, then refreshes one chart a tick: five charts repainted in one frame held the event loop
    // for 10-19 ms at 50,000 workers, one a frame costs a fifth of that (issue #25).
    m_refresh.setObjectName(QStringLiteral("ChartPanel refresh"));
    m_refresh.setInterval(kRoundMs / 5);
    connect(&m_refresh, &QTimer::timeout, this, [this] {
        if (m_nextChart < 0) {
            if (m_markersDirty)
                rebuildMarkers();
            if (!m_dirty || !m_window->isFollowingLive()
                || (m_roundStarted.isValid() && m_roundStarted.elapsed() < kRoundMs))
                return;
            m_dirty = false;
            m_roundStarted.start();
            m_window->followTo(m_store ? m_store->history().latestSecond() : 0);
            m_nextChart = 0;
        }
        if (m_nextChart < int(m_charts.size()) && m_window->isFollowingLive())
            m_charts[m_nextChart++]->refresh(false);
        if (m_nextChart >= int(m_charts.size()) || !m_window->isFollowingLive())
            m_nextChart = -1;
    });
    m_refresh.start();
    updateHeader();
}

void ChartPanel::setRegion(const QString &id, const QString &name)
{
    m_region = id;
    m_regionName = name;
    for (HealthChart *chart : std::as_const(m_charts))
        chart->setRegion(id);
    m_markersDirty = true;
    rebuildMarkers();
    refreshNow();
    updateHeader();
}

void ChartPanel::setThresholds(const VerdictThresholds &t)
{
    m_charts[1]->setThresholds(packetLossLines(t));
    m_charts[2]->setThresholds(rttLines(t));
}

void ChartPanel::setVerdict(Verdict verdict, const QString &reason)
{
    m_verdictValue = verdict;
    m_verdictReason = reason;
    QString text = reason.isEmpty() ? verdictLabel(verdict).toUpper()
                                    : tr("%1 · %2").arg(verdictLabel(verdict).toUpper(), reason);
    if (m_stale)
        text = tr("as of the last data: %1").arg(text); // not a current verdict: say so, and grey it
    if (m_verdict->text() == text)
        return;
    m_verdict->setText(text);
    m_verdict->setStyleSheet(QStringLiteral("QLabel { color: %1; font-weight: bold; }")
                                 .arg((m_stale ? m_theme.mutedText : m_theme.verdictColor(verdict)).name()));
}

void ChartPanel::setNextSteps(const QString &text)
{
    if (m_next->text() != text)
        m_next->setText(text);
    m_next->setVisible(!text.isEmpty());
}

void ChartPanel::setSourceNote(const QString &text)
{
    if (m_sourceNote->text() != text) {
        m_sourceNote->setText(text);
        m_sourceNote->setToolTip(text.toHtmlEscaped());
    }
    m_sourceNote->setVisible(!text.isEmpty());
}

void ChartPanel::setAlerts(const QString &text)
{
    if (m_alerts->text() != text)
        m_alerts->setText(text);
    m_alerts->setVisible(!text.isEmpty());
}

QString ChartPanel::alertsText() const
{
    return m_alerts->text();
}

QString ChartPanel::sourceNoteText() const
{
    return m_sourceNote->text();
}

QString ChartPanel::nextStepsText() const
{
    return m_next->text();
}

QString ChartPanel::verdictText() const
{
    return m_verdict->text();
}

void ChartPanel::setTheme(const Theme &theme)
{
    m_theme = theme;
    for (HealthChart *chart : std::as_const(m_charts))
        chart->setTheme(theme);
    setVerdict(m_verdictValue, m_verdictReason);
}

void ChartPanel::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::ApplicationPaletteChange && Theme::current().kind != m_theme.kind) {
        m_theme = Theme::current();
        m_verdict->clear(); // re-styled with the new colours
        setVerdict(m_verdictValue, m_verdictReason);
    }
}

void ChartPanel::setContextActions(const QList<QAction *> &actions)
{
    for (HealthChart *chart : std::as_const(m_charts))
        chart->setContextActions(actions);
}

int ChartPanel::spanSeconds() const
{
    return m_window->spanSeconds();
}

bool ChartPanel::isFollowingLive() const
{
    return m_window->isFollowingLive();
}

void ChartPanel::setSpanSeconds(int seconds)
{
    m_window->showLast(seconds); // choosing a range is "show me the last N": it returns to live
}

void ChartPanel::pause()
{
    m_window->pause();
}

void ChartPanel::backToLive()
{
    m_window->backToLive();
}

void ChartPanel::togglePause()
{
    m_window->togglePause();
}

void ChartPanel::setStaleText(const QString &text)
{
    for (HealthChart *chart : std::as_const(m_charts))
        chart->setStaleText(text);
    if (m_stale != !text.isEmpty()) {
        m_stale = !text.isEmpty();
        setVerdict(m_verdictValue, m_verdictReason);
    }
}

void ChartPanel::refreshNow()
{
    m_dirty = false;
    m_nextChart = -1; // all of them, now: the round under way is done
    for (HealthChart *chart : std::as_const(m_charts))
        chart->refresh();
}

HealthChart *ChartPanel::currentChart() const
{
    for (HealthChart *chart : m_charts) {
        if (chart->isAncestorOf(focusWidget()) || chart->hasFocus())
            return chart;
    }
    return m_charts.first();
}

void ChartPanel::rebuildMarkers()
{
    m_markersDirty = false;
    QList<ChartMarker> markers;
    if (m_store) {
        for (const Operation &op : m_store->operations()) {
            ChartMarker m;
            m.atSecond = op.createdAt / 1000;
            m.what = describeOperation(op);
            m.who = op.requestedBy;
            m.why = op.reason;
            markers.append(m);
        }
    }
    for (HealthChart *chart : std::as_const(m_charts))
        chart->setMarkers(markers);
}

void ChartPanel::updateHeader()
{
    m_title->setText(m_region.isEmpty()                          ? tr("No region selected")
            : m_regionName.isEmpty() || m_regionName == m_region ? m_region
                                                                 : tr("%1 — %2").arg(m_regionName, m_region));
    m_title->setToolTip(m_title->text().toHtmlEscaped());
    const bool follow = m_window->isFollowingLive();
    m_liveButton->setText(follow ? tr("❚❚ Pause") : tr("● Back to live"));
    m_liveButton->setToolTip(follow
            ? tr("Hold the charts where they are (%1)")
                  .arg(m_window->actions().pauseOrResume->shortcut().toString(QKeySequence::NativeText))
            : tr("Follow live data again (%1)")
                  .arg(m_window->actions().backToLive->shortcut().toString(QKeySequence::NativeText)));
}

} // namespace fleet
