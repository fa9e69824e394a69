#include "consolewindow.h"

#include "chartpanel.h"
#include "connectdialog.h"
#include "connectionindicator.h"
#include "fleetclient.h"
#include "fleetconnection.h"
#include "fleetstore.h"
#include "historyloader.h"
#include "regionmodel.h"
#include "regionoverview.h"
#include "shortcutsoverlay.h"
#include "workermodel.h"
#include "workertable.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDateTime>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTimeZone>
#include <QTimer>
#include <QVBoxLayout>

namespace fleet {

namespace {

QLabel *badge(QWidget *parent, const QString &accessibleName)
{
    auto *l = new QLabel(parent);
    l->setTextFormat(Qt::PlainText);
    l->setAccessibleName(accessibleName);
    l->hide();
    return l;
}

void styleBadge(QLabel *label, const QColor &background)
{
    label->setStyleSheet(QStringLiteral("QLabel { background: %1; color: white; font-weight: bold; padding: 1px 8px; "
                                        "border-radius: 3px; }")
                             .arg(background.name()));
}

} // namespace

ConsoleWindow::ConsoleWindow(QSettings *settings, QWidget *parent)
    : QMainWindow(parent)
    , m_settings(settings)
    , m_store(new FleetStore(this))
    , m_regionModel(new RegionModel(m_store, this))
    , m_workerModel(new WorkerModel(m_store, this))
    , m_theme(Theme::current())
{
    setWindowTitle(tr("Fleet Console"));
    setObjectName(QStringLiteral("ConsoleWindow"));

    m_overview = new RegionOverview(m_regionModel, m_store, this);
    m_charts = new ChartPanel(m_store, this);
    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->setObjectName(QStringLiteral("mainSplitter"));
    splitter->addWidget(m_overview);
    splitter->addWidget(m_charts);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({ 380, 1220 });

    // A production connection gets a red strip across the top of the window, besides the badge and the title.
    m_productionStrip = new QWidget(this);
    m_productionStrip->setFixedHeight(5);
    m_productionStrip->hide();
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_productionStrip);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);

    m_workers = new WorkerTable(m_workerModel, m_store, this);
    m_workersDock = new QDockWidget(tr("Workers"), this);
    m_workersDock->setObjectName(QStringLiteral("workersDock"));
    m_workersDock->setWidget(m_workers);
    addDockWidget(Qt::BottomDockWidgetArea, m_workersDock);
    resizeDocks({ m_workersDock }, { 260 }, Qt::Vertical);

    m_indicator = new ConnectionIndicator(this);
    m_demoBadge = badge(this, tr("Demo mode"));
    m_productionBadge = badge(this, tr("Production connection"));
    m_insecureBadge = badge(this, tr("TLS verification off"));
    m_identity = new QLabel(this);
    m_identity->setTextFormat(Qt::PlainText);
    m_fleetTime = new QLabel(this);
    m_fleetTime->setTextFormat(Qt::PlainText);
    m_fleetTime->setAccessibleName(tr("Time of the newest data"));
    statusBar()->addWidget(m_demoBadge);
    statusBar()->addWidget(m_productionBadge);
    statusBar()->addWidget(m_insecureBadge);
    statusBar()->addWidget(m_indicator, 1);
    statusBar()->addPermanentWidget(m_fleetTime);
    statusBar()->addPermanentWidget(m_identity);

    m_shortcuts = new ShortcutsOverlay(this);
    createActions();

    connect(m_overview, &RegionOverview::regionSelected, this, [this](const QString &id, const QString &name) {
        if (!m_autoSelecting)
            m_followWorst = false; // the user chose: stay on their region
        showRegion(id, name);
    });
    connect(m_workers, &WorkerTable::regionRequested, this, &ConsoleWindow::focusRegion);
    connect(
        m_workers, &WorkerTable::message, this, [this](const QString &text) { statusBar()->showMessage(text, 4000); });
    connect(m_charts, &ChartPanel::exportRequested, this, &ConsoleWindow::exportCurrentChart);
    connect(m_indicator, &ConnectionIndicator::staleChanged, this, [this](bool stale, const QString &text) {
        m_charts->setStaleText(text);
        m_overview->setStale(stale);
    });
    // The worst region comes first and, until the user picks one, is the one in focus.
    connect(m_overview->sortedModel(), &QAbstractItemModel::layoutChanged, this, &ConsoleWindow::autoFocusWorst);
    connect(m_overview->sortedModel(), &QAbstractItemModel::rowsInserted, this, &ConsoleWindow::autoFocusWorst);
    connect(m_overview->sortedModel(), &QAbstractItemModel::modelReset, this, &ConsoleWindow::autoFocusWorst);
    connect(m_store, &FleetStore::snapshotApplied, this, [this] {
        autoFocusWorst();
        if (!m_firstDataSeen) {
            m_firstDataSeen = true;
            m_charts->refreshNow();
            Q_EMIT firstDataShown();
        }
    });
    auto *clock = new QTimer(this);
    clock->setInterval(1000);
    connect(clock, &QTimer::timeout, this, &ConsoleWindow::updateFleetTime);
    clock->start();

    applyTheme(m_theme);
    resize(1600, 1000);
}

ConsoleWindow::~ConsoleWindow()
{
    if (m_connection)
        m_connection->stop();
}

void ConsoleWindow::createActions()
{
    QList<QPair<QString, QString>> help;
    auto add = [this, &help](QMenu *menu, const QString &text, const QKeySequence &key, auto slot) {
        auto *a = new QAction(text, this);
        if (!key.isEmpty()) {
            a->setShortcut(key);
            help.append({ key.toString(QKeySequence::NativeText),
                QString(text).remove(QLatin1Char('&')).remove(QStringLiteral("…")) });
        }
        a->setShortcutContext(Qt::WindowShortcut);
        connect(a, &QAction::triggered, this, slot);
        menu->addAction(a);
        addAction(a);
        return a;
    };
    QMenu *file = menuBar()->addMenu(tr("&File"));
    add(file, tr("&Connect…"), QKeySequence(Qt::CTRL | Qt::Key_O), [this] { openConnectDialog(); });
    add(file, tr("&Export chart…"), QKeySequence(Qt::CTRL | Qt::Key_E),
        [this] { exportCurrentChart(m_charts->currentChart()); });
    file->addSeparator();
    add(file, tr("&Quit"), QKeySequence(Qt::CTRL | Qt::Key_Q), [this] { close(); });

    QMenu *view = menuBar()->addMenu(tr("&View"));
    const QList<int> &spans = ChartPanel::spans();
    for (int i = 0; i < spans.size(); ++i) {
        const int s = spans[i];
        add(view, tr("Last %1").arg(formatSpan(s)), QKeySequence(Qt::Key_1 + i),
            [this, s] { m_charts->setSpanSeconds(s); });
    }
    view->addSeparator();
    add(view, tr("&Pause or resume charts"), QKeySequence(Qt::Key_Space), [this] { m_charts->togglePause(); });
    add(view, tr("&Back to live"), QKeySequence(Qt::Key_End), [this] { m_charts->backToLive(); });
    view->addSeparator();
    add(view, tr("Focus the &worst region"), QKeySequence(Qt::Key_W), [this] { followWorstRegion(); });
    add(view, tr("&Next region"), QKeySequence(Qt::CTRL | Qt::Key_Down), [this] { stepRegion(1); });
    add(view, tr("P&revious region"), QKeySequence(Qt::CTRL | Qt::Key_Up), [this] { stepRegion(-1); });
    add(view, tr("&Search workers"), QKeySequence(Qt::CTRL | Qt::Key_F), [this] {
        m_workersDock->show();
        m_workers->focusSearch();
    });
    QAction *dock = m_workersDock->toggleViewAction();
    dock->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_W));
    view->addAction(dock);
    help.append({ dock->shortcut().toString(QKeySequence::NativeText), tr("Show or hide the worker table") });
    view->addSeparator();
    add(view, tr("Switch &theme (dark / light)"), QKeySequence(Qt::CTRL | Qt::Key_T), [this] {
        applyTheme(m_theme.kind == Theme::Kind::Dark ? Theme::light() : Theme::dark());
        m_settings->setValue(QStringLiteral("theme"), m_theme.name());
    });
    add(view, tr("&Full screen"), QKeySequence(Qt::Key_F11),
        [this] { setWindowState(windowState() ^ Qt::WindowFullScreen); });

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction *keys
        = add(helpMenu, tr("&Keyboard shortcuts"), QKeySequence(Qt::Key_Question), [this] { m_shortcuts->toggle(); });
    // "?" is Shift+/ on most layouts: accept it with and without the Shift the keyboard reports, and F1.
    keys->setShortcuts(
        { QKeySequence(Qt::Key_Question), QKeySequence(Qt::SHIFT | Qt::Key_Question), QKeySequence(Qt::Key_F1) });
    add(helpMenu, tr("&About Fleet Console"), QKeySequence(), [this] {
        QMessageBox::about(this, tr("About Fleet Console"),
            tr("<p><b>Fleet Console %1</b></p><p>Watch a fleet of remote build workers, see which region is hurting "
               "and why, and act on it.</p>")
                .arg(QCoreApplication::applicationVersion().toHtmlEscaped()));
    });
    help.append({ tr("Ctrl+C"), tr("Copy the selected worker IDs (worker table)") });
    help.append({ tr("Drag / wheel / + −"), tr("Zoom a chart (pauses it)") });
    help.append({ tr("← → / Shift+wheel / middle drag"), tr("Pan a chart back and forth in time") });
    help.append({ tr("Right click"), tr("Chart menu: back to live, zoom out, export") });
    m_shortcuts->setShortcuts(help);
}

void ConsoleWindow::applyTheme(const Theme &theme)
{
    m_theme = theme;
    theme.apply(qobject_cast<QApplication *>(QCoreApplication::instance()));
    m_charts->setTheme(theme);
    m_overview->setTheme(theme);
    m_indicator->setTheme(theme);
    styleBadge(m_demoBadge, theme.demo);
    styleBadge(m_productionBadge, theme.production);
    styleBadge(m_insecureBadge, theme.insecure);
    m_productionStrip->setStyleSheet(QStringLiteral("background: %1;").arg(theme.production.name()));
    m_fleetTime->setStyleSheet(QStringLiteral("color: %1").arg(theme.mutedText.name()));
    m_identity->setStyleSheet(QStringLiteral("color: %1").arg(theme.mutedText.name()));
    update();
}

void ConsoleWindow::connectTo(const ConnectionProfile &profile, const QString &token)
{
    const bool otherFleet = m_profile.url != profile.url;
    if (m_connection) {
        m_connection->stop();
        m_connection->disconnect(this);
        m_connection->deleteLater();
    }
    if (m_history) {
        disconnect(m_store, nullptr, m_history, nullptr);
        m_history->deleteLater();
    }
    if (otherFleet && m_store->isLoaded()) {
        // Another fleet: nothing of the previous one may show under this profile, not even while the new one
        // is still connecting (or failing to).
        m_store->clear();
        m_charts->setRegion(QString(), QString());
        m_followWorst = true;
    }
    m_profile = profile;
    m_firstDataSeen = false;
    auto *connection = new FleetConnection(profile.clientConfig(token), this);
    m_connection = connection;
    m_store->attach(connection);
    m_history = new HistoryLoader(m_store, connection->client(), 24, this);
    const QString host = profile.url.port() > 0
        ? QStringLiteral("%1:%2").arg(profile.url.host()).arg(profile.url.port())
        : profile.url.host();
    m_indicator->setConnection(connection, host);
    connect(connection, &FleetConnection::identityReceived, this, [this](const Identity &who) {
        m_identity->setText(tr("%1 · %2").arg(who.name, wireName(who.role).toString()));
    });
    updateBadges();
    connection->start();
}

bool ConsoleWindow::openConnectDialog()
{
    ProfileStore profiles(m_settings);
    ConnectDialog dialog(&profiles, this);
    if (!m_profile.name.isEmpty())
        dialog.setProfile(m_profile);
    if (dialog.exec() != QDialog::Accepted)
        return false;
    connectTo(dialog.profile(), dialog.token());
    return true;
}

void ConsoleWindow::setDemo(const QString &description)
{
    m_demo = description;
    updateBadges();
}

void ConsoleWindow::updateBadges()
{
    m_demoBadge->setText(tr("DEMO · %1").arg(m_demo));
    m_demoBadge->setVisible(!m_demo.isEmpty());
    m_productionBadge->setText(tr("PRODUCTION · %1").arg(m_profile.name));
    m_productionBadge->setVisible(m_profile.production);
    m_productionStrip->setVisible(m_profile.production);
    m_insecureBadge->setText(tr("INSECURE · TLS not verified"));
    m_insecureBadge->setVisible(m_profile.insecure && m_profile.url.scheme() == QLatin1String("https"));
    QString title = m_profile.name.isEmpty() ? tr("Fleet Console") : tr("%1 — Fleet Console").arg(m_profile.name);
    if (m_profile.production)
        title = tr("[PRODUCTION] %1").arg(title);
    if (!m_demo.isEmpty())
        title = tr("[DEMO] %1").arg(title);
    setWindowTitle(title);
}

void ConsoleWindow::updateFleetTime()
{
    for (int r = 0; r < m_regionModel->rowCount(); ++r) {
        const QModelIndex i = m_regionModel->index(r, 0);
        if (i.data(RegionModel::IdRole).toString() == m_charts->region())
            m_charts->setVerdict(
                Verdict(i.data(RegionModel::VerdictRole).toInt()), i.data(RegionModel::VerdictReasonRole).toString());
    }
    const qint64 latest = m_store->history().latestSecond();
    m_fleetTime->setText(latest ? tr("newest data %1 UTC")
                                      .arg(QDateTime::fromSecsSinceEpoch(latest, QTimeZone::utc())
                                               .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")))
                                : QString());
}

FleetConnection *ConsoleWindow::connection() const
{
    return m_connection;
}

QString ConsoleWindow::focusedRegion() const
{
    return m_charts->region();
}

void ConsoleWindow::showRegion(const QString &id, const QString &name)
{
    if (id == m_charts->region())
        return;
    m_charts->setRegion(id, name);
    m_workers->setRegionFilter(id);
    updateFleetTime();
}

void ConsoleWindow::focusRegion(const QString &id)
{
    m_followWorst = false;
    m_overview->selectRegion(id);
}

void ConsoleWindow::followWorstRegion()
{
    m_followWorst = true;
    autoFocusWorst();
    statusBar()->showMessage(tr("Following the worst region"), 3000);
}

void ConsoleWindow::autoFocusWorst()
{
    const QStringList order = m_overview->regionOrder();
    if (order.isEmpty())
        return;
    if (!m_followWorst && !m_charts->region().isEmpty())
        return;
    if (order.first() == m_overview->currentRegion() && order.first() == m_charts->region())
        return;
    m_autoSelecting = true;
    m_overview->selectRegion(order.first());
    m_autoSelecting = false;
}

void ConsoleWindow::stepRegion(int delta)
{
    const QStringList order = m_overview->regionOrder();
    if (order.isEmpty())
        return;
    const int at = int(order.indexOf(m_overview->currentRegion()));
    focusRegion(order[(std::max(0, at) + delta + int(order.size())) % int(order.size())]);
}

bool ConsoleWindow::exportChart(HealthChart *chart, const QString &path, QString *error)
{
    return path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive) ? chart->exportCsv(path, error)
                                                                     : chart->exportPng(path, error);
}

void ConsoleWindow::exportCurrentChart(HealthChart *chart)
{
    if (!chart)
        return;
    const QString base = QStringLiteral("%1-%2")
                             .arg(m_charts->region(), chart->title().section(QLatin1Char(','), 0, 0))
                             .toLower()
                             .replace(QLatin1Char(' '), QLatin1Char('-'));
    QString filter;
    const QString path
        = QFileDialog::getSaveFileName(this, tr("Export “%1”").arg(chart->title()), base + QStringLiteral(".png"),
            tr("PNG image of the chart (*.png);;CSV data of the visible window (*.csv)"), &filter);
    if (path.isEmpty())
        return;
    QString target = path;
    if (QFileInfo(path).suffix().isEmpty())
        target += filter.contains(QLatin1String("csv")) ? QStringLiteral(".csv") : QStringLiteral(".png");
    QString error;
    if (!exportChart(chart, target, &error))
        QMessageBox::warning(this, tr("Export failed"), error);
    else
        statusBar()->showMessage(tr("Exported to %1").arg(target), 5000);
}

void ConsoleWindow::restoreLayout()
{
    restoreGeometry(m_settings->value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(m_settings->value(QStringLiteral("window/state")).toByteArray());
    const int span = m_settings->value(QStringLiteral("charts/span"), 3600).toInt();
    if (ChartPanel::spans().contains(span))
        m_charts->setSpanSeconds(span);
}

void ConsoleWindow::saveLayout()
{
    m_settings->setValue(QStringLiteral("window/geometry"), saveGeometry());
    m_settings->setValue(QStringLiteral("window/state"), saveState());
    m_settings->setValue(QStringLiteral("charts/span"), m_charts->spanSeconds());
    m_settings->sync();
}

void ConsoleWindow::closeEvent(QCloseEvent *event)
{
    saveLayout();
    QMainWindow::closeEvent(event);
}

} // namespace fleet
