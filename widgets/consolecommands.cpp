#include "consolecommands.h"

#include "actionregistry.h"
#include "chartpanel.h"
#include "charttimewindow.h"
#include "consolewindow.h"
#include "desktopnotifier.h"
#include "fleetaction.h"
#include "fleetsession.h"
#include "operationsdock.h"
#include "shortcutseditor.h"
#include "shortcutsoverlay.h"
#include "theme.h"
#include "traystatus.h"
#include "warroomview.h"
#include "workertable.h"

#include <QAction>
#include <QCoreApplication>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>

namespace fleet {

void ConsoleCommands::define(ConsoleWindow *w)
{
    ActionRegistry &r = *w->m_actions;
    const auto key = [](auto k) { return QList<QKeySequence> { QKeySequence(k) }; };
    r.add({ QStringLiteral("file.connect"), ConsoleWindow::tr("&Connect…"), key(Qt::CTRL | Qt::Key_O),
              ConsoleWindow::tr("Connect to a fleet (profiles, URL, token)") },
        [w] { w->openConnectDialog(); });
    r.add({ QStringLiteral("file.reconnect"), ConsoleWindow::tr("&Reconnect now"), key(Qt::CTRL | Qt::Key_R),
              ConsoleWindow::tr("Drop the connection and connect again at once") },
        [w] { w->m_session->reconnect(); });
    r.setCondition(QStringLiteral("file.reconnect"), [w] {
        if (w->m_session->isReplaying())
            return ConsoleWindow::tr("a replay has no connection");
        return w->m_session->hasProfile() ? QString() : ConsoleWindow::tr("not connected to a fleet yet");
    });
    r.setCondition(QStringLiteral("file.connect"), [w] {
        return w->m_session->isReplaying()
            ? ConsoleWindow::tr("this window plays a recording: connect from the console's own window")
            : QString();
    });
    r.add({ QStringLiteral("file.openIncident"), ConsoleWindow::tr("Open &incident recording…"),
              key(Qt::CTRL | Qt::SHIFT | Qt::Key_L),
              ConsoleWindow::tr("Play a recorded incident (a bundle) in a window of its own, 1x to 60x") },
        [w] { w->openIncidentRecording(); });
    r.add({ QStringLiteral("file.settings"), ConsoleWindow::tr("&Settings…"), key(Qt::CTRL | Qt::Key_Comma),
              ConsoleWindow::tr("This profile's status page, notifications and verdict thresholds") },
        [w] { w->openSettingsDialog(); });
    r.setCondition(QStringLiteral("file.settings"), [w] {
        if (w->m_session->isReplaying())
            return ConsoleWindow::tr("a replay is judged with the thresholds it was recorded with");
        return w->m_session->profile().name.isEmpty()
            ? ConsoleWindow::tr("settings belong to a connection profile: connect first")
            : QString();
    });
    r.add({ QStringLiteral("file.exportChart"), ConsoleWindow::tr("&Export chart…"), key(Qt::CTRL | Qt::Key_E),
              ConsoleWindow::tr("Save the chart in focus as PNG or CSV") },
        [w] { w->exportCurrentChart(w->m_charts->currentChart()); });
    r.add({ QStringLiteral("file.quit"), ConsoleWindow::tr("&Quit"), key(Qt::CTRL | Qt::Key_Q),
              ConsoleWindow::tr("Quit Fleet Console") },
        [w] { w->close(); });

    // The charts' time window owns its actions; the registry lists them like any other.
    const ChartTimeWindow::Actions &tw = w->m_timeWindow->actions();
    QStringList spanIds;
    for (int i = 0; i < tw.spans.size(); ++i) {
        const QString id = QStringLiteral("charts.last%1").arg(ChartTimeWindow::presetSpans()[i]);
        r.adopt({ id, tw.spans[i]->text(), tw.spans[i]->shortcuts(),
                    ConsoleWindow::tr("Charts: the last %1, live").arg(formatSpan(ChartTimeWindow::presetSpans()[i])) },
            tw.spans[i]);
        spanIds << id;
    }
    r.adopt({ QStringLiteral("charts.pause"), tw.pauseOrResume->text(), tw.pauseOrResume->shortcuts(),
                ConsoleWindow::tr("Pause or resume the charts") },
        tw.pauseOrResume);
    r.adopt({ QStringLiteral("charts.live"), tw.backToLive->text(), tw.backToLive->shortcuts(),
                ConsoleWindow::tr("Charts back to live") },
        tw.backToLive);
    r.setCondition(QStringLiteral("charts.live"), [w] {
        return w->m_timeWindow->isFollowingLive() ? ConsoleWindow::tr("the charts already follow live data")
                                                  : QString();
    });
    QObject::connect(w->m_timeWindow, &ChartTimeWindow::followLiveChanged, w->m_actions, &ActionRegistry::refresh);
    auto chartAction = [&](const QString &id, QAction *a, const QString &help) {
        ActionSpec spec(id, a->text(), a->shortcuts(), help);
        spec.context = Qt::WidgetWithChildrenShortcut; // in a chart: elsewhere the arrows move through tables
        r.adopt(spec, a);
    };
    chartAction(
        QStringLiteral("charts.zoomIn"), tw.zoomIn, ConsoleWindow::tr("Zoom the charts in (pauses them; in a chart)"));
    chartAction(QStringLiteral("charts.zoomOut"), tw.zoomOut, ConsoleWindow::tr("Zoom the charts out (in a chart)"));
    chartAction(
        QStringLiteral("charts.panBack"), tw.panBack, ConsoleWindow::tr("Pan the charts back in time (in a chart)"));
    chartAction(QStringLiteral("charts.panForward"), tw.panForward,
        ConsoleWindow::tr("Pan the charts forward in time (in a chart)"));

    // Failover actions: an operator's, on a live connection (the registry disables them with the reason).
    const auto operatorAction = [&](ActionSpec spec, const std::function<void()> &handler) {
        spec.needsConnection = true;
        spec.role = Role::Operator;
        r.add(spec, handler);
    };
    operatorAction(
        { QStringLiteral("actions.provision"), ConsoleWindow::tr("&Provision replacements…"),
            key(Qt::CTRL | Qt::SHIFT | Qt::Key_P),
            ConsoleWindow::tr("Provision workers elsewhere for the region in focus, as recommended from live data") },
        [w] { w->openProvisionDialog(w->focusedRegion()); });
    operatorAction({ QStringLiteral("actions.drainRegion"), ConsoleWindow::tr("&Drain region…"),
                       key(Qt::CTRL | Qt::SHIFT | Qt::Key_D),
                       ConsoleWindow::tr("Send no new builds to the region in focus; running builds finish") },
        [w] { w->openRegionDialog(true); });
    operatorAction(
        { QStringLiteral("actions.drainWorkers"), ConsoleWindow::tr("Drain selected &workers…"), {},
            ConsoleWindow::tr("Each selected worker in the table finishes its build, then takes no new ones") },
        [w] {
            QList<FleetAction> list;
            for (const QString &id : w->m_workers->selectedWorkerIds())
                list << FleetAction::drainWorker(id, QString());
            if (!list.isEmpty())
                w->openActionDialog(list, ConsoleWindow::tr("Each worker finishes its build, then takes no new ones."));
        });
    r.setCondition(QStringLiteral("actions.drainWorkers"), [w] {
        return w->m_workers->selectedWorkerIds().isEmpty()
            ? ConsoleWindow::tr("select workers in the worker table first")
            : QString();
    });
    operatorAction(
        { QStringLiteral("actions.resumeRegion"), ConsoleWindow::tr("&Resume region…"),
            key(Qt::CTRL | Qt::SHIFT | Qt::Key_U), ConsoleWindow::tr("Let the region in focus take builds again") },
        [w] { w->openRegionDialog(false); });
    r.add({ QStringLiteral("view.operations"), ConsoleWindow::tr("&Operations"), key(Qt::CTRL | Qt::SHIFT | Qt::Key_O),
              ConsoleWindow::tr("Show the operations of the fleet, live") },
        [w] {
            w->m_operationsDock->show();
            w->m_operationsDock->raise();
        });
    r.add({ QStringLiteral("view.activity"), ConsoleWindow::tr("&Activity (this console)"),
              key(Qt::CTRL | Qt::SHIFT | Qt::Key_A),
              ConsoleWindow::tr("Show every action attempted from this console and its outcome") },
        [w] {
            w->m_operationsDock->show();
            w->m_operationsDock->raise();
            w->m_operations->showActivity();
        });

    // Status updates: the status page is not the fleet; the dialog says what is missing (no page configured).
    r.add({ QStringLiteral("status.update"), ConsoleWindow::tr("Post &status update…"),
              key(Qt::CTRL | Qt::SHIFT | Qt::Key_S),
              ConsoleWindow::tr("Compose, preview and publish an update on the status page (queued, sent once)") },
        [w] { w->openStatusUpdateDialog(w->focusedRegion()); });
    r.setCondition(QStringLiteral("status.update"), [w] {
        return w->m_session->isReplaying()
            ? ConsoleWindow::tr("this is a replay of a recorded incident: nothing here reaches a status page")
            : QString();
    });
    r.add({ QStringLiteral("status.incident"), ConsoleWindow::tr("Incident &timeline and postmortem…"),
              key(Qt::CTRL | Qt::SHIFT | Qt::Key_I),
              ConsoleWindow::tr(
                  "Verdict changes, operations and status updates in order; a postmortem draft from them") },
        [w] { w->openIncidentDialog(); });

    r.add({ QStringLiteral("view.worstRegion"), ConsoleWindow::tr("Focus the &worst region"), key(Qt::Key_W),
              ConsoleWindow::tr("Focus the worst region and keep following it") },
        [w] { w->followWorstRegion(); });
    r.add({ QStringLiteral("view.nextRegion"), ConsoleWindow::tr("&Next region"), key(Qt::CTRL | Qt::Key_Down),
              ConsoleWindow::tr("Focus the next region") },
        [w] { w->stepRegion(1); });
    r.add({ QStringLiteral("view.previousRegion"), ConsoleWindow::tr("P&revious region"), key(Qt::CTRL | Qt::Key_Up),
              ConsoleWindow::tr("Focus the previous region") },
        [w] { w->stepRegion(-1); });
    r.add({ QStringLiteral("view.searchWorkers"), ConsoleWindow::tr("&Search workers"), key(Qt::CTRL | Qt::Key_F),
              ConsoleWindow::tr("Search the worker table") },
        [w] {
            w->m_workersDock->show();
            w->m_workers->focusSearch();
        });
    QAction *dock = w->m_workersDock->toggleViewAction();
    r.adopt({ QStringLiteral("view.workerTable"), dock->text(), key(Qt::CTRL | Qt::SHIFT | Qt::Key_W),
                ConsoleWindow::tr("Show or hide the worker table") },
        dock);
    r.add({ QStringLiteral("view.theme"), ConsoleWindow::tr("Switch &theme (dark / light)"), key(Qt::CTRL | Qt::Key_T),
              ConsoleWindow::tr("Switch between the dark and the light theme") },
        [w] {
            w->applyTheme(Theme::current().kind == Theme::Kind::Dark ? Theme::light() : Theme::dark());
            w->m_settings->setValue(QStringLiteral("theme"), Theme::current().name());
        });
    r.add({ QStringLiteral("view.fullScreen"), ConsoleWindow::tr("&Full screen"), key(Qt::Key_F11),
              ConsoleWindow::tr("Full screen on or off") },
        [w] { w->setWindowState(w->windowState() ^ Qt::WindowFullScreen); });
    r.add({ QStringLiteral("view.warRoom"), ConsoleWindow::tr("&War-room display"),
              key(Qt::CTRL | Qt::SHIFT | Qt::Key_F11),
              ConsoleWindow::tr("A read-only wall display of this fleet, full screen (%1 closes it)")
                  .arg(WarRoomView::exitChord().toString(QKeySequence::NativeText)) },
        [w] { w->openWarRoom(); });
    // Each kind of desktop notification can be turned off; the choice is kept.
    const struct
    {
        const char *id;
        const char *text;
        const char *help;
        DesktopNotifier::Kind kind;
    } kinds[] = {
        { "notify.regionTrouble", QT_TR_NOOP("Notify when a region is &degraded or down"),
            QT_TR_NOOP("A desktop notification when a region becomes degraded or down"),
            DesktopNotifier::Kind::RegionTrouble },
        { "notify.regionRecovered", QT_TR_NOOP("Notify when a region &recovers"),
            QT_TR_NOOP("A desktop notification when a region is healthy again"),
            DesktopNotifier::Kind::RegionRecovered },
        { "notify.operations", QT_TR_NOOP("Notify when an &action finishes or fails"),
            QT_TR_NOOP("A desktop notification when an action of this console is done or failed"),
            DesktopNotifier::Kind::Operations },
    };
    for (const auto &k : kinds) {
        const DesktopNotifier::Kind kind = k.kind;
        QAction *a
            = r.add({ QString::fromLatin1(k.id), ConsoleWindow::tr(k.text), {}, ConsoleWindow::tr(k.help) }, [] {});
        a->setCheckable(true);
        a->setChecked(w->m_notifier->isEnabled(kind));
        QObject::connect(a, &QAction::toggled, w, [w, kind](bool on) { w->m_notifier->setEnabled(kind, on); });
    }
    // "?" is Shift+/ on most layouts: accept it with and without the Shift the keyboard reports, and F1.
    r.add({ QStringLiteral("help.shortcuts"), ConsoleWindow::tr("&Keyboard shortcuts"),
              { QKeySequence(Qt::Key_Question), QKeySequence(Qt::SHIFT | Qt::Key_Question), QKeySequence(Qt::Key_F1) },
              ConsoleWindow::tr("Show this list of shortcuts") },
        [w] { w->m_shortcuts->toggle(); });
    r.add({ QStringLiteral("help.customizeShortcuts"), ConsoleWindow::tr("&Customize shortcuts…"), {},
              ConsoleWindow::tr("Choose your own key for any command; kept for the next start") },
        [w] {
            auto *editor = new ShortcutsEditor(w->m_actions, w->m_settings, w);
            editor->setAttribute(Qt::WA_DeleteOnClose);
            editor->open();
        });
    r.add({ QStringLiteral("help.about"), ConsoleWindow::tr("&About Fleet Console"), {},
              ConsoleWindow::tr("Version and what this is") },
        [w] {
            QMessageBox::about(w, ConsoleWindow::tr("About Fleet Console"),
                ConsoleWindow::tr("<p><b>Fleet Console %1</b></p><p>Watch a fleet of remote build workers, see which "
                                  "region is hurting "
                                  "and why, and act on it.</p>")
                    .arg(QCoreApplication::applicationVersion().toHtmlEscaped()));
        });
    // Gestures that are not actions of their own, for the "?" overlay.
    r.addGesture(ConsoleWindow::tr("Ctrl+C"), ConsoleWindow::tr("Copy the selected worker IDs (worker table)"));
    r.addGesture(ConsoleWindow::tr("Drag / wheel"), ConsoleWindow::tr("Zoom a chart (pauses it)"));
    r.addGesture(
        ConsoleWindow::tr("Shift+wheel / middle drag"), ConsoleWindow::tr("Pan a chart back and forth in time"));
    r.addGesture(ConsoleWindow::tr("Right click"), ConsoleWindow::tr("Chart menu: back to live, zoom, export"));
}

void ConsoleCommands::buildMenus(ConsoleWindow *w)
{
    ActionRegistry &r = *w->m_actions;
    QStringList spanIds;
    for (const auto span : ChartTimeWindow::presetSpans())
        spanIds << QStringLiteral("charts.last%1").arg(span);
    r.fillMenu(w->menuBar()->addMenu(ConsoleWindow::tr("&File")),
        { QStringLiteral("file.connect"), QStringLiteral("file.reconnect"), QStringLiteral("file.settings"),
            QStringLiteral("-"), QStringLiteral("file.openIncident"), QStringLiteral("file.exportChart"),
            QStringLiteral("-"), QStringLiteral("file.quit") });
    QMenu *viewMenu = w->menuBar()->addMenu(ConsoleWindow::tr("&View"));
    r.fillMenu(viewMenu,
        QStringList { spanIds } << QStringList { QStringLiteral("-"), QStringLiteral("charts.pause"),
            QStringLiteral("charts.live"), QStringLiteral("charts.zoomIn"), QStringLiteral("charts.zoomOut"),
            QStringLiteral("-"), QStringLiteral("view.worstRegion"), QStringLiteral("view.nextRegion"),
            QStringLiteral("view.previousRegion"), QStringLiteral("view.searchWorkers"),
            QStringLiteral("view.workerTable"), QStringLiteral("-"), QStringLiteral("view.theme"),
            QStringLiteral("view.fullScreen"), QStringLiteral("view.warRoom") });
    QMenu *notifications = viewMenu->addMenu(ConsoleWindow::tr("&Notifications"));
    r.fillMenu(notifications,
        { QStringLiteral("notify.regionTrouble"), QStringLiteral("notify.regionRecovered"),
            QStringLiteral("notify.operations") });
    // The tray icon's menu: the window, and the notification choices.
    auto *trayMenu = new QMenu(w);
    QAction *show = trayMenu->addAction(ConsoleWindow::tr("Show Fleet Console"));
    QObject::connect(show, &QAction::triggered, w, [w] {
        w->showNormal();
        w->raise();
        w->activateWindow();
    });
    trayMenu->addSeparator();
    r.fillMenu(trayMenu,
        { QStringLiteral("notify.regionTrouble"), QStringLiteral("notify.regionRecovered"),
            QStringLiteral("notify.operations"), QStringLiteral("-"), QStringLiteral("file.quit") });
    w->m_tray = new TrayStatus(w->m_session, trayMenu, w);
    QObject::connect(w->m_tray, &TrayStatus::activated, w, [w] {
        w->showNormal();
        w->raise();
        w->activateWindow();
    });
    r.fillMenu(w->menuBar()->addMenu(ConsoleWindow::tr("&Actions")),
        { QStringLiteral("actions.provision"), QStringLiteral("actions.drainRegion"),
            QStringLiteral("actions.resumeRegion"), QStringLiteral("actions.drainWorkers"), QStringLiteral("-"),
            QStringLiteral("view.operations"), QStringLiteral("view.activity") });
    r.fillMenu(w->menuBar()->addMenu(ConsoleWindow::tr("&Incident")),
        { QStringLiteral("status.update"), QStringLiteral("status.incident") });
    r.fillMenu(w->menuBar()->addMenu(ConsoleWindow::tr("&Help")),
        { QStringLiteral("help.shortcuts"), QStringLiteral("help.customizeShortcuts"), QStringLiteral("help.about") });
    // Each chart's right-click menu: the same registered actions, not copies.
    w->m_charts->setContextActions({ r.action(QStringLiteral("charts.live")), r.action(QStringLiteral("charts.zoomIn")),
        r.action(QStringLiteral("charts.zoomOut")), nullptr, r.action(QStringLiteral("file.exportChart")), nullptr,
        r.action(QStringLiteral("actions.provision")), r.action(QStringLiteral("actions.drainRegion")) });
}

} // namespace fleet
