#include "consolewindow.h"

#include "incidentreplay.h"
#include "replaybar.h"

#include "alertwatch.h"
#include "incidentdialog.h"
#include "statusoutbox.h"
#include "statusupdatedialog.h"

#include "actiondialog.h"
#include "actionregistry.h"
#include "chartpanel.h"
#include "charttimewindow.h"
#include "connectdialog.h"
#include "connectionindicator.h"
#include "consolecommands.h"
#include "currentincident.h"
#include "desktopnotifier.h"
#include "fleetconnection.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "mitigationsilences.h"
#include "operationsdock.h"
#include "recommendation.h"
#include "regionmodel.h"
#include "regionorder.h"
#include "regionoverview.h"
#include "settingsdialog.h"
#include "shortcutsoverlay.h"
#include "tokensource.h"
#include "traystatus.h"
#include "warroomview.h"
#include "workermodel.h"
#include "workertable.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDateTime>
#include <QDockWidget>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListView>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTableView>
#include <QTimeZone>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent>

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

ConsoleWindow::ConsoleWindow(FleetSession *session, QSettings *settings, QWidget *parent)
    : QMainWindow(parent)
    , m_session(session)
    , m_settings(settings)
    , m_actions(new ActionRegistry(this))
    , m_timeWindow(new ChartTimeWindow(this))
{
    setWindowTitle(tr("Fleet Console"));
    setObjectName(QStringLiteral("ConsoleWindow"));
    FleetStore *store = session->store();

    m_overview = new RegionOverview(session->regionOrder(), store, this);
    m_charts = new ChartPanel(store, m_timeWindow, this);
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
    connect(session, &FleetSession::replayChanged, this, &ConsoleWindow::showReplay);
    QTimer::singleShot(0, this, &ConsoleWindow::showReplay); // a session replaying already (fleet-console --replay)

    m_workers = new WorkerTable(session->workerModel(), store, this);
    m_workersDock = new QDockWidget(tr("Workers"), this);
    m_workersDock->setObjectName(QStringLiteral("workersDock"));
    m_workersDock->setWidget(m_workers);
    addDockWidget(Qt::BottomDockWidgetArea, m_workersDock);
    resizeDocks({ m_workersDock }, { 260 }, Qt::Vertical);

    m_operations = new OperationsDock(session, this);
    m_operationsDock = new QDockWidget(tr("Operations"), this);
    m_operationsDock->setObjectName(QStringLiteral("operationsDock"));
    m_operationsDock->setWidget(m_operations);
    addDockWidget(Qt::BottomDockWidgetArea, m_operationsDock);
    tabifyDockWidget(m_workersDock, m_operationsDock);
    m_workersDock->raise();
    connect(m_operations, &OperationsDock::actionsRequested, this,
        [this](const QList<FleetAction> &list, const QString &context) { openActionDialog(list, context); });
    connect(session->actions(), &ActionController::finished, this, &ConsoleWindow::onActionFinished);

    m_indicator = new ConnectionIndicator(this);
    m_demoBadge = badge(this, tr("Demo mode"));
    m_productionBadge = badge(this, tr("Production connection"));
    m_insecureBadge = badge(this, tr("TLS verification off"));
    m_identity = new QLabel(this);
    m_identity->setTextFormat(Qt::PlainText);
    m_identity->setMaximumWidth(320); // the name is the server's: it must not widen the window
    m_fleetTime = new QLabel(this);
    m_fleetTime->setTextFormat(Qt::PlainText);
    m_fleetTime->setAccessibleName(tr("Time of the newest data"));
    statusBar()->addWidget(m_demoBadge);
    statusBar()->addWidget(m_productionBadge);
    statusBar()->addWidget(m_insecureBadge);
    statusBar()->addWidget(m_indicator, 1);
    // The status bar's flat buttons: shown only while they have something to say.
    const auto statusButton = [this](const QString &name) {
        auto *b = new QPushButton(this);
        b->setObjectName(name);
        b->setFlat(true);
        b->hide();
        statusBar()->addPermanentWidget(b);
        return b;
    };
    m_undo = statusButton(QStringLiteral("undoLastAction"));
    connect(m_undo, &QPushButton::clicked, this, [this] {
        m_undo->hide();
        // One confirmed action is undone whole: every request it made (six provisions in two regions, say).
        QList<FleetAction> undo;
        QStringList what;
        for (const int handle : std::as_const(m_undoHandles)) {
            undo += m_session->actions()->inverseOf(handle);
            if (const auto *t = m_session->actions()->find(handle))
                what << t->action.describe();
        }
        if (!undo.isEmpty())
            openActionDialog(undo, tr("Undo: %1").arg(what.join(QStringLiteral("; "))));
    });
    // Actions whose outcome nobody can tell yet: never "done", never sent again on a guess; the Activity tab has
    // Look again and Give up.
    m_unconfirmed = statusButton(QStringLiteral("unconfirmedActions"));
    connect(m_unconfirmed, &QPushButton::clicked, this, [this] {
        m_operationsDock->show();
        m_operationsDock->raise();
        m_operations->showActivity();
    });
    connect(session->actions(), &ActionController::trackedChanged, this, &ConsoleWindow::updateUnconfirmed);
    // Status updates not yet on the page: how many, and why ("the status page is unreachable: ...").
    m_outboxState = statusButton(QStringLiteral("statusOutbox"));
    connect(m_outboxState, &QPushButton::clicked, this, [this] {
        StatusOutbox *outbox = m_session->statusOutbox();
        if (!outbox)
            return;
        const auto entries = outbox->entries();
        const auto unknown = std::find_if(entries.begin(), entries.end(), &StatusOutbox::isUnknown);
        if (unknown == entries.end()) {
            outbox->retryNow();
            return;
        }
        // Look again, or give up on it: the engineer decides, having looked at the page.
        QMenu menu(this);
        QAction *look = menu.addAction(tr("&Look again now"));
        QAction *drop
            = menu.addAction(tr("&Give up on \"%1\" (it may or may not be on the page)").arg(unknown->summary));
        QAction *chosen = menu.exec(m_outboxState->mapToGlobal(QPoint(0, 0)));
        if (chosen == look)
            outbox->retryNow();
        else if (chosen == drop) {
            if (const Status s = outbox->giveUp(unknown->id); !s)
                statusBar()->showMessage(s.error(), 8000);
        }
    });
    const auto watchOutbox = [this] {
        StatusOutbox *outbox = m_session->statusOutbox();
        if (!outbox)
            return;
        connect(outbox, &StatusOutbox::changed, this, &ConsoleWindow::updateOutboxState, Qt::UniqueConnection);
        connect(
            outbox, &StatusOutbox::delivered, this, [this](const LocalStore::OutboxEntry &e, const status::Incident &) {
                statusBar()->showMessage(tr("On the status page: %1").arg(e.summary), 8000);
            });
        connect(outbox, &StatusOutbox::failed, this, [this](const LocalStore::OutboxEntry &e) {
            statusBar()->showMessage(tr("The status page refused %1: %2").arg(e.summary, e.lastError), 15000);
        });
        updateOutboxState();
    };
    connect(session, &FleetSession::localStoreChanged, this, watchOutbox);
    // The local store writes on its own thread: a write the disk refuses is kept and tried again, and said here.
    connect(session->localStore(), &LocalStore::writeFailed, this,
        [this](const QString &message) { statusBar()->showMessage(message, 30000); });
    connect(session->localStore(), &LocalStore::writesCaughtUp, this, [this] {
        statusBar()->showMessage(tr("The local store has caught up: every record kept in memory is on disk."), 15000);
    });
    // The incident's status decides the next step offered under the region's verdict: the page's, when a view (the
    // war-room wall) already reads it; else this console's own record (no extra reads: the page allows one a second).
    connect(session->currentIncident(), &CurrentIncident::changed, this, &ConsoleWindow::updateHeaderVerdict);
    watchOutbox();
    statusBar()->addPermanentWidget(m_fleetTime);
    statusBar()->addPermanentWidget(m_identity);

    m_shortcuts = new ShortcutsOverlay(this);
    // Desktop notifications and the tray: the console speaks up while its window is hidden.
    m_notifier = new DesktopNotifier(session, settings, this);
    auto bringUp = [this] {
        showNormal();
        raise();
        activateWindow();
    };
    connect(m_notifier, &DesktopNotifier::regionActivated, this, [this, bringUp](const QString &region) {
        bringUp();
        focusRegion(region);
    });
    connect(m_notifier, &DesktopNotifier::consoleActivated, this, bringUp);
    ConsoleCommands::define(this);
    m_actions->readShortcuts(*m_settings); // the user's own, over the defaults
    ConsoleCommands::buildMenus(this);
    // "Drain selected workers" is enabled by the table's selection: the registry looks again when it changes.
    connect(m_workers->view()->selectionModel(), &QItemSelectionModel::selectionChanged, m_actions,
        &ActionRegistry::refresh);
    m_shortcuts->setRegistry(m_actions);
    m_actions->bindSession(session);

    connect(m_overview, &RegionOverview::regionSelected, this, [this](const QString &id, const QString &name) {
        if (!m_autoSelecting)
            m_followWorst = false; // the user chose: stay on their region
        showRegion(id, name);
    });
    connect(m_workers, &WorkerTable::regionRequested, this, &ConsoleWindow::focusRegion);
    connect(m_workers, &WorkerTable::contextMenuAboutToShow, this, [this](QMenu *menu, const QStringList &ids) {
        if (ids.isEmpty())
            return;
        menu->addSeparator();
        // The registered command (in the ? overlay, enabled by role like the others), named with the count.
        QAction *drain = m_actions->action(QStringLiteral("actions.drainWorkers"));
        drain->setText(tr("Drain %n selected worker(s)…", nullptr, int(ids.size())));
        menu->addAction(drain);
        menu->addAction(m_actions->action(QStringLiteral("actions.provision")));
    });
    // A region tile's right-click menu: the region's failover moves, for that region.
    m_overview->view()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_overview->view(), &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        const QModelIndex index = m_overview->view()->indexAt(pos);
        if (!index.isValid())
            return;
        focusRegion(index.data(RegionModel::IdRole).toString());
        QMenu menu(this);
        m_actions->fillMenu(&menu,
            { QStringLiteral("actions.provision"), QStringLiteral("actions.drainRegion"),
                QStringLiteral("actions.resumeRegion"), QStringLiteral("-"), QStringLiteral("status.update") });
        menu.exec(m_overview->view()->viewport()->mapToGlobal(pos));
    });
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
    // The first fleet data shown: the regions preview (tiles, header, charts as the history arrives) or, if the
    // snapshot came first, the snapshot.
    auto firstData = [this] {
        autoFocusWorst();
        if (!m_firstDataSeen) {
            m_firstDataSeen = true;
            m_charts->refreshNow();
            Q_EMIT firstDataShown();
        }
    };
    connect(store, &FleetStore::regionsPreviewApplied, this, firstData);
    connect(store, &FleetStore::snapshotApplied, this, firstData);
    auto *clock = new QTimer(this);
    clock->setInterval(1000);
    connect(clock, &QTimer::timeout, this, &ConsoleWindow::updateFleetTime);
    connect(clock, &QTimer::timeout, this, &ConsoleWindow::remindExpiring);
    connect(clock, &QTimer::timeout, this, &ConsoleWindow::updateAlerts); // "polled N s ago" stays true
    // The header's verdict and reason change with the tile's, at the same evaluation: they never name different
    // reasons (the header used to follow a one-second clock and lag the tile).
    connect(session->healthMonitor(), &HealthMonitor::evaluated, this, &ConsoleWindow::updateHeaderVerdict);
    clock->start();

    connect(session, &FleetSession::profileChanged, this, &ConsoleWindow::onProfileChanged);
    // A saved profile whose token cannot be had (FleetSession::connectToProfile): why, and the connect dialog.
    connect(
        session, &FleetSession::credentialsNeeded, this, [this](const ConnectionProfile &profile, const QString &why) {
            statusBar()->showMessage(tr("Could not open profile %1: %2").arg(profile.name, why), 30000);
            QTimer::singleShot(0, this, [this] { openConnectDialog(); });
        });
    // The charts draw the session's thresholds, as the verdicts use them.
    m_charts->setThresholds(session->healthMonitor()->thresholds());
    connect(session->healthMonitor(), &HealthMonitor::thresholdsChanged, m_charts, &ChartPanel::setThresholds);
    connect(session, &FleetSession::connectionChanged, this, &ConsoleWindow::onConnectionChanged);
    connect(session, &FleetSession::historyNoteChanged, m_charts, &ChartPanel::setSourceNote);
    auto followAlerts = [this] {
        if (AlertWatch *watch = m_session->alertWatch())
            connect(watch, &AlertWatch::changed, this, &ConsoleWindow::updateAlerts, Qt::UniqueConnection);
        updateAlerts();
    };
    connect(session, &FleetSession::alertWatchChanged, this, followAlerts);
    followAlerts();
    connect(session, &FleetSession::identityChanged, this, [this] {
        const std::optional<Identity> who = m_session->identity();
        m_identity->setText(who ? tr("%1 · %2").arg(who->name, wireName(who->role).toString()) : QString());
    });
    if (session->connection())
        onConnectionChanged(session->connection());
    updateBadges();
    styleBadges();
    resize(1600, 1000);
}

ConsoleWindow::~ConsoleWindow() = default;

FleetStore *ConsoleWindow::store() const
{
    return m_session->store();
}

RegionModel *ConsoleWindow::regionModel() const
{
    return m_session->regionModel();
}

const ConnectionProfile &ConsoleWindow::profile() const
{
    return m_session->profile();
}

StatusUpdateDialog *ConsoleWindow::openStatusUpdateDialog(const QString &region)
{
    if (m_statusDialog) {
        m_statusDialog->raise();
        m_statusDialog->activateWindow();
        return m_statusDialog;
    }
    auto *dialog = new StatusUpdateDialog(m_session, region, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_statusDialog = dialog;
    connect(dialog, &StatusUpdateDialog::queued, this, [this](const QString &text) {
        statusBar()->showMessage(text, 8000);
        updateOutboxState();
    });
    dialog->show();
    return dialog;
}

SettingsDialog *ConsoleWindow::openSettingsDialog()
{
    if (m_session->profile().name.isEmpty())
        return nullptr;
    if (m_settingsDialog) {
        m_settingsDialog->raise();
        m_settingsDialog->activateWindow();
        return m_settingsDialog;
    }
    auto *dialog = new SettingsDialog(m_session, ProfileSettings::load(m_settings, m_session->profile().name), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_settingsDialog = dialog;
    const QString profile = m_session->profile().name;
    connect(dialog, &QDialog::accepted, this,
        [this, dialog, profile] { saveSettings(profile, dialog->chosen(), dialog->typedKey()); });
    dialog->show();
    return dialog;
}

void ConsoleWindow::saveSettings(const QString &profile, const ProfileSettings &chosen, const QString &key)
{
    chosen.save(m_settings, profile);
    if (!key.isEmpty()) {
        // In memory for this run at once; the keychain keeps it for the next (its account is the page's, whichever
        // profile is open now). A keychain that cannot keep it is said, not hidden: the key then lasts until exit.
        m_session->useStatusPageKey(chosen.pageId, key);
        tokens::storeInKeychain(
            ProfileSettings::keychainAccount(chosen.pageId), key, this, [this](Result<bool> stored) {
                if (!stored)
                    statusBar()->showMessage(tr("The status page key could not be kept in the keychain (%1): it is "
                                                "used until the console exits.")
                                                 .arg(stored.error()),
                        15000);
            });
    }
    statusBar()->showMessage(tr("Settings of %1 saved.").arg(profile), 5000);
    if (profile != m_session->profile().name)
        return; // another profile was opened meanwhile: saved for this one, applied when it is opened
    m_session->applySettings(chosen);
    syncNotificationChoices();
}

void ConsoleWindow::syncNotificationChoices()
{
    const struct
    {
        const char *id;
        DesktopNotifier::Kind kind;
    } kinds[] = { { "notify.regionTrouble", DesktopNotifier::Kind::RegionTrouble },
        { "notify.regionRecovered", DesktopNotifier::Kind::RegionRecovered },
        { "notify.operations", DesktopNotifier::Kind::Operations } };
    for (const auto &k : kinds) {
        if (QAction *a = m_actions->action(QString::fromLatin1(k.id))) {
            const QSignalBlocker quiet(a); // showing the saved choice is not making one
            a->setChecked(m_notifier->isEnabled(k.kind));
        }
    }
}

void ConsoleWindow::setDesktopPresence(bool on)
{
    m_notifier->setActive(on);
    m_tray->setVisible(on);
}

WarRoomView *ConsoleWindow::openWarRoom(QScreen *screen)
{
    if (!m_warRoom) {
        m_warRoom = new WarRoomView(m_session); // a window of its own, on the wall
        m_warRoom->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_warRoom, &WarRoomView::exitRequested, m_warRoom, &QWidget::close);
        connect(this, &QObject::destroyed, m_warRoom, &QObject::deleteLater);
    }
    if (!screen) {
        // Another screen than this window's when there is one: the wall, not the engineer's desk.
        const QList<QScreen *> screens = QGuiApplication::screens();
        QScreen *mine = this->screen();
        screen = mine;
        for (QScreen *s : screens) {
            if (s != mine) {
                screen = s;
                break;
            }
        }
    }
    m_warRoom->showOnScreen(screen);
    return m_warRoom;
}

IncidentDialog *ConsoleWindow::openIncidentDialog()
{
    auto *dialog = new IncidentDialog(m_session, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    if ((m_session->statusOutbox() && m_session->statusOutbox()->resolvedWithoutPostmortem()))
        dialog->showPostmortem(); // the next step after Resolved: the draft in front
    connect(
        dialog, &IncidentDialog::queued, this, [this](const QString &text) { statusBar()->showMessage(text, 8000); });
    dialog->show();
    return dialog;
}

void ConsoleWindow::updateOutboxState()
{
    updateHeaderVerdict(); // a delivered update moves the incident's next step
    const StatusOutbox *outbox = m_session->statusOutbox();
    const QString text = outbox ? outbox->summary() : QString();
    m_outboxState->setVisible(!text.isEmpty());
    if (text.isEmpty())
        return;
    const int pending = outbox->pendingCount();
    const auto entries = outbox->entries();
    const bool unknown = std::any_of(entries.begin(), entries.end(), &StatusOutbox::isUnknown);
    // Unknown: it went out and nobody can tell yet whether the page has it. Never sent again on a guess.
    m_outboxState->setText(unknown ? tr("Status update: outcome unknown")
            : pending == 1         ? tr("1 status update queued")
                                   : tr("%1 status updates queued").arg(pending));
    m_outboxState->setToolTip(text
        + (unknown ? tr("\nClick to look again now, or give up on it after checking the status page.")
                   : tr("\nClick to try again now.")));
}

ActionDialog *ConsoleWindow::openActionDialog(const QList<FleetAction> &list, const QString &context)
{
    if (list.isEmpty())
        return nullptr;
    if (m_actionDialog) {
        // One decision at a time: the open dialog stays, in front.
        m_actionDialog->raise();
        m_actionDialog->activateWindow();
        return m_actionDialog;
    }
    auto *dialog = new ActionDialog(m_session, list, context, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    m_actionDialog = dialog;
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        const QList<FleetAction> confirmed = dialog->actions();
        QList<int> handles;
        for (const FleetAction &a : confirmed)
            handles << m_session->actions()->perform(a);
        for (const int h : std::as_const(handles))
            m_groupOf.insert(h, handles);
        QString why;
        if (dialog->silenceRequested() && !handles.isEmpty() && m_session->silences()
            && !m_session->silences()->silenceWith(handles.front(), confirmed.front(), &why, dialog->silenceRegion())) {
            auto *box = new QMessageBox(QMessageBox::Warning, tr("Silence not asked for"),
                tr("The action was sent, but the silence of %1's alerts was not asked for: %2")
                    .arg(dialog->silenceRegion(), why),
                QMessageBox::Ok, this);
            box->setTextFormat(Qt::PlainText);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        statusBar()->showMessage(tr("Sent: %1. Follow it in Operations (Ctrl+Shift+O).")
                                     .arg(confirmed.size() == 1 ? confirmed.front().describe()
                                                                : tr("%n actions", nullptr, int(confirmed.size()))),
            8000);
    });
    dialog->open();
    return dialog;
}

ActionDialog *ConsoleWindow::openProvisionDialog(const QString &region)
{
    const HealthMonitor *monitor = m_session->healthMonitor();
    // The region in focus if it is in trouble, else the worst one.
    const QString wanted = !region.isEmpty() && monitor->verdict(region) != Verdict::Healthy
            && monitor->verdict(region) != Verdict::NoData
        ? region
        : QString();
    const Recommendation rec = recommend(*m_session->store(), *monitor, wanted);
    QList<FleetAction> list = rec.actions(rec.suggestedReason);
    if (list.isEmpty()) {
        // Nothing recommended: a form to fill in, for the region in focus.
        const QString target = region.isEmpty() && !m_session->store()->regions().empty()
            ? m_session->store()->regions().front().id
            : region;
        list << FleetAction::provision(target, 1, Arch::Amd64, QString());
    }
    ActionDialog *dialog = openActionDialog(list, rec.headline());
    if (dialog && !rec.region.isEmpty())
        dialog->setSilenceRegion(rec.region); // the replacements are for the region in trouble: its alerts
    return dialog;
}

ActionDialog *ConsoleWindow::openRegionDialog(bool drain, const QString &region)
{
    const QString id = region.isEmpty() ? focusedRegion() : region;
    if (id.isEmpty()) {
        statusBar()->showMessage(tr("Select a region first."), 4000);
        return nullptr;
    }
    return openActionDialog(
        { drain ? FleetAction::drainRegion(id, QString()) : FleetAction::resumeRegion(id, QString()) },
        drain ? tr("No new builds go to %1; its running builds finish there; its queued builds go to other regions.")
                    .arg(id)
              : tr("%1 takes builds again.").arg(id));
}

void ConsoleWindow::updateUnconfirmed()
{
    const auto &all = m_session->actions()->tracked();
    const auto n = std::count_if(all.begin(), all.end(),
        [](const ActionController::Tracked &t) { return t.phase == ActionController::Phase::Uncertain; });
    m_unconfirmed->setVisible(n > 0);
    m_unconfirmed->setText(n == 1 ? tr("1 action: outcome unknown") : tr("%1 actions: outcome unknown").arg(n));
    m_unconfirmed->setToolTip(tr("No answer proves what happened: the fleet is asked again by itself, and the action "
                                 "is sent again only if the fleet does not have it. Click for the Activity tab (Look "
                                 "again, Give up)."));
}

void ConsoleWindow::onActionFinished(const ActionController::Tracked &t)
{
    QString text = tr("%1: %2").arg(t.action.describe(), describe(t.phase));
    if (!t.message.isEmpty())
        text += QStringLiteral(" - ") + t.message;
    // The inverse, offered right after (also in Activity, for later): a new action, confirmed like any other. Once
    // every request confirmed with this one is done, Undo covers them all.
    const QList<int> group = m_groupOf.value(t.handle, { t.handle });
    bool allDone = true;
    QList<int> undoable;
    for (const int h : group) {
        const auto *member = m_session->actions()->find(h);
        allDone = allDone && member && member->isFinal();
        if (member && member->phase == ActionController::Phase::Done && !m_session->actions()->inverseOf(h).isEmpty())
            undoable << h;
    }
    if (t.phase == ActionController::Phase::Done && allDone && !undoable.isEmpty()) {
        m_undoHandles = undoable;
        m_undo->setText(undoable.size() == 1
                ? tr("Undo %1…").arg(t.action.describe())
                : tr("Undo %1 and %n more…", nullptr, int(undoable.size() - 1))
                      .arg(m_session->actions()->find(undoable.front())->action.describe()));
        m_undo->setToolTip(tr("Open the inverse of this action, every request of it (asks first)"));
        m_undo->show();
        QTimer::singleShot(120000, m_undo, [this, undoable] {
            if (m_undoHandles == undoable)
                m_undo->hide();
        });
    }
    statusBar()->showMessage(text, 15000);
    if (t.phase != ActionController::Phase::Done)
        QApplication::alert(this); // a refusal or a failure needs the engineer
}

void ConsoleWindow::remindExpiring()
{
    for (const ActionController::Expiring &soon : m_session->actions()->expiringSoon(10 * 60 * 1000)) {
        if (m_reminded.contains(soon.operation))
            continue;
        m_reminded.insert(soon.operation);
        statusBar()->showMessage(tr("Reminder: %1").arg(soon.text), 30000);
        QApplication::alert(this);
    }
}

void ConsoleWindow::applyTheme(const Theme &theme)
{
    // Widgets follow the application palette change that this announces (changeEvent); nothing is pushed to them.
    theme.apply(qobject_cast<QApplication *>(QCoreApplication::instance()));
}

void ConsoleWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::ApplicationPaletteChange)
        styleBadges();
}

void ConsoleWindow::styleBadges()
{
    const Theme &theme = Theme::current();
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
    m_session->connectTo(profile, token);
}

void ConsoleWindow::onProfileChanged()
{
    // The profile's own settings: thresholds, notifications, its status page (unless the command line chose one).
    if (!m_session->profile().name.isEmpty())
        m_session->applySettings(ProfileSettings::load(m_settings, m_session->profile().name));
    syncNotificationChoices();
    if (!m_session->store()->isLoaded()) {
        // Another fleet: the session emptied the store; nothing of the previous one stays in focus either.
        m_charts->setRegion(QString(), QString());
        m_followWorst = true;
    }
    updateBadges();
}

void ConsoleWindow::onConnectionChanged(FleetConnection *connection)
{
    m_firstDataSeen = false;
    const QUrl &url = m_session->profile().url;
    const QString host = url.port() > 0 ? QStringLiteral("%1:%2").arg(url.host()).arg(url.port()) : url.host();
    m_indicator->setConnection(connection, host);
}

bool ConsoleWindow::openConnectDialog()
{
    ProfileStore profiles(m_settings);
    ConnectDialog dialog(&profiles, this);
    if (!m_session->profile().name.isEmpty())
        dialog.setProfile(m_session->profile());
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
    const ConnectionProfile &profile = m_session->profile();
    m_productionBadge->setText(tr("PRODUCTION · %1").arg(profile.name));
    m_productionBadge->setVisible(profile.production);
    m_productionStrip->setVisible(profile.production);
    m_insecureBadge->setText(tr("INSECURE · TLS not verified"));
    m_insecureBadge->setVisible(profile.insecure && profile.url.scheme() == QLatin1String("https"));
    QString title = profile.name.isEmpty() ? tr("Fleet Console") : tr("%1 — Fleet Console").arg(profile.name);
    if (m_session->isReplaying())
        title = tr("[REPLAY] %1").arg(title);
    if (profile.production)
        title = tr("[PRODUCTION] %1").arg(title);
    if (!m_demo.isEmpty())
        title = tr("[DEMO] %1").arg(title);
    setWindowTitle(title);
}

void ConsoleWindow::updateHeaderVerdict()
{
    // The verdict from its one judge, for the region the charts show (if the fleet has it).
    const QString region = m_charts->region();
    if (region.isEmpty() || m_session->store()->regionRow(region) < 0)
        return;
    const HealthMonitor *monitor = m_session->healthMonitor();
    const Verdict verdict = monitor->verdict(region);
    m_charts->setVerdict(verdict, monitor->reason(region));
    const QString next = nextStepsFor(verdict);
    m_charts->setNextSteps(next);
    m_overview->setNextSteps(region, next); // on its tile too
}

QString ConsoleWindow::nextStepsFor(Verdict verdict) const
{
    // Where the eyes are: the next steps for the region in view, with their keys. A region in trouble: replacements
    // (when the session may act and none were asked for yet) and the first public word; then the incident's next
    // lifecycle step as the status page shows it (Identified, Monitoring once the region is healthy, Resolved), and
    // the postmortem once this console resolved it. The composer opens on that step.
    const auto key = [this](const char *id) {
        return m_actions->action(QLatin1String(id))->shortcut().toString(QKeySequence::NativeText);
    };
    const bool trouble = verdict == Verdict::Degraded || verdict == Verdict::Down;
    const bool provisioned = std::any_of(m_session->actions()->tracked().cbegin(),
        m_session->actions()->tracked().cend(), [](const ActionController::Tracked &t) {
            return t.action.kind == FleetAction::Kind::Provision && t.phase != ActionController::Phase::Failed
                && t.phase != ActionController::Phase::Refused && t.phase != ActionController::Phase::Mismatched;
        });
    QStringList steps;
    if (m_session->isReplaying())
        return {}; // a recording: nothing to do now, and nothing here could do it
    if (trouble && !provisioned && m_session->whyCannotAct(Role::Operator).isEmpty())
        steps << tr("provision replacements elsewhere (%1)").arg(key("actions.provision"));
    const StatusOutbox *outbox = m_session->statusOutbox();
    const QString post = key("status.update");
    if (!outbox || !outbox->backend()) {
        if (trouble) // the composer says how to set a status page up
            steps << tr("post a status update (%1)").arg(post);
    } else {
        const CurrentIncident *page = m_session->currentIncident();
        QString status = outbox->lastDeliveredStatus();
        if (page->isWatched() && page->readAtMs() > 0)
            status = page->incident() ? page->incident()->status : QString();
        if (status == QLatin1String("resolved"))
            status.clear();
        if (status.isEmpty() && trouble)
            steps << tr("post a status update: Investigating (%1)").arg(post);
        else if (status == QLatin1String("investigating"))
            steps << tr("post Identified (%1)").arg(post);
        else if (status == QLatin1String("identified") && !trouble)
            steps << tr("post Monitoring (%1)").arg(post);
        else if (status == QLatin1String("monitoring") && !trouble)
            steps << tr("resolve the incident (%1)").arg(post);
        else if (status.isEmpty() && !trouble
            && (m_session->statusOutbox() && m_session->statusOutbox()->resolvedWithoutPostmortem()))
            steps << tr("publish the postmortem (%1)").arg(key("status.incident"));
    }
    return steps.isEmpty() ? QString() : tr("Next: %1").arg(steps.join(QStringLiteral(" · ")));
}

void ConsoleWindow::updateFleetTime()
{
    updateHeaderVerdict();
    const qint64 latest = m_session->store()->history().latestSecond();
    m_fleetTime->setText(latest ? tr("newest data %1 UTC")
                                      .arg(QDateTime::fromSecsSinceEpoch(latest, QTimeZone::utc())
                                               .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")))
                                : QString());
}

FleetConnection *ConsoleWindow::connection() const
{
    return m_session->connection();
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
    updateFleetTime();
    updateAlerts();
    // The worker table follows in the next turn of the event loop: at 50,000 workers its filter re-filters and
    // re-sorts every row (about 9 ms), and a switch the monitor makes (the worst region changed, inside the health
    // update) would otherwise hold the loop for both at once (issue #25: 15-20 ms, the event loop's longest stall).
    QTimer::singleShot(0, this, [this, id] {
        if (m_charts->region() == id)
            m_workers->setRegionFilter(id);
    });
}

void ConsoleWindow::updateAlerts()
{
    const AlertWatch *watch = m_session ? m_session->alertWatch() : nullptr;
    if (!watch) {
        m_overview->setAlerts({});
        m_charts->setAlerts({});
        return;
    }
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QHash<QString, QString> byRegion;
    QSet<QString> regions;
    for (const AmAlert &a : watch->alerts())
        regions.insert(a.labels.value(QStringLiteral("region")));
    for (const QString &region : std::as_const(regions))
        if (!region.isEmpty())
            byRegion.insert(region, AlertWatch::brief(watch->alertsFor(region)));
    m_overview->setAlerts(byRegion);
    const QString mine = AlertWatch::summary(watch->alertsFor(m_charts->region()));
    m_charts->setAlerts((mine.isEmpty() ? tr("Alerts: none for this region") : tr("Alerts: %1").arg(mine))
        + QStringLiteral(" (") + watch->statusText(now) + QLatin1Char(')'));
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
    // Nothing in trouble any more: the region in view stays (it has just recovered, and its recovery curve is what
    // Monitoring is decided on), instead of jumping to the first region by name.
    const Verdict worst = m_session->healthMonitor()->verdict(order.first());
    if ((worst == Verdict::Healthy || worst == Verdict::NoData) && !m_charts->region().isEmpty())
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

Status ConsoleWindow::exportChart(HealthChart *chart, const QString &path)
{
    return path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive) ? chart->exportCsv(path) : chart->exportPng(path);
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
    if (const Status written = exportChart(chart, target); !written)
        QMessageBox::warning(this, tr("Export failed"), written.error());
    else
        statusBar()->showMessage(tr("Exported to %1").arg(target), 5000);
}

void ConsoleWindow::restoreLayout()
{
    restoreGeometry(m_settings->value(QStringLiteral("window/geometry")).toByteArray());
    m_docksSized = restoreState(m_settings->value(QStringLiteral("window/state")).toByteArray());
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

void ConsoleWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    if (m_docksSized)
        return;
    m_docksSized = true;
    // Without a saved layout, the workers / operations dock takes about a third of a tall window: at 1920x1080 a fixed
    // 260 px showed 4 of 6 operations (issue #21, item 10); a laptop's 768 lines keep the charts their room.
    resizeDocks({ m_workersDock }, { std::max(260, height() * 3 / 10) }, Qt::Vertical);
}

void ConsoleWindow::showReplay()
{
    IncidentReplay *replay = m_session->replay();
    if (!replay || m_replayBar)
        return;
    m_replayBar = new ReplayBar(replay, centralWidget());
    static_cast<QVBoxLayout *>(centralWidget()->layout())->insertWidget(0, m_replayBar);
    setDesktopPresence(false); // a replay's verdicts are history: no notifications, no tray icon
    m_timeWindow->setEdgeName(tr("replay"));
    // A bundle holds each region's counts, not its workers: the operations are what a replay has to show below.
    m_workersDock->setWindowTitle(tr("Workers (not in a recording)"));
    m_operationsDock->raise();
    connect(replay, &IncidentReplay::positionChanged, this, &ConsoleWindow::updateFleetTime);
    // The status bar says what this window is instead of a connection it does not have.
    m_indicator->hide();
    auto *replayBadge = badge(this, tr("Replay"));
    replayBadge->setText(
        tr("REPLAY · %1 · a recording, not live: nothing here reaches a fleet or a status page").arg(replay->name()));
    styleBadge(replayBadge, QColor(0xb2, 0x6a, 0x00)); // amber: the replay strip's colour, no theme's
    replayBadge->show();
    statusBar()->insertWidget(0, replayBadge, 1);
    updateBadges();
}

void ConsoleWindow::openIncidentRecording(
    const QString &chosen, std::function<void(ConsoleWindow *, const QString &)> opened, bool quiet)
{
    QString path = chosen;
    if (path.isEmpty())
        path = QFileDialog::getOpenFileName(this, tr("Open incident recording"), QString(),
            tr("Incident bundles (*.jsonl *.ndjson *.json);;All files (*)"));
    if (path.isEmpty())
        return;
    auto *watcher = new QFutureWatcher<Result<bundle::Bundle>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path, opened, quiet] {
        watcher->deleteLater();
        Result<bundle::Bundle> loaded = watcher->result();
        QString why;
        ConsoleWindow *window = nullptr;
        if (!loaded) {
            why = loaded.error();
        } else {
            // A session and a window of their own: the fleet this window watches goes on as it was.
            auto *session = new FleetSession;
            if (Status started = session->startReplay(loaded.take(), QFileInfo(path).fileName()); !started) {
                why = started.error();
                delete session;
            } else {
                window = new ConsoleWindow(session, m_settings);
                window->setAttribute(Qt::WA_DeleteOnClose);
                connect(window, &QObject::destroyed, session, &QObject::deleteLater);
                window->resize(size());
                window->show();
                session->replay()->play();
            }
        }
        if (!why.isEmpty() && !quiet)
            QMessageBox::warning(this, tr("Open incident recording"), why);
        if (opened)
            opened(window, why);
    });
    watcher->setFuture(QtConcurrent::run([path] { return IncidentReplay::load(path); }));
}

void ConsoleWindow::closeEvent(QCloseEvent *event)
{
    if (!m_session->isReplaying()) // a replay's window keeps the console's layout as the console left it
        saveLayout();
    QMainWindow::closeEvent(event);
}

} // namespace fleet
