#pragma once

#include "actioncontroller.h"
#include "actiondialog.h"
#include "connectionprofiles.h"
#include "incidentdialog.h"
#include "profilesettings.h"
#include "result.h"
#include "settingsdialog.h"
#include "statusupdatedialog.h"
#include "theme.h"
#include "warroomview.h"

#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <QSet>

class QAction;
class QDockWidget;
class QLabel;
class QPushButton;
class QScreen;
class QSettings;

#include <functional>

namespace fleet {

class ActionRegistry;
class ChartPanel;
class ChartTimeWindow;
class ConnectionIndicator;
class DesktopNotifier;
class TrayStatus;
class WarRoomView;
class FleetConnection;
class FleetSession;
class FleetStore;
class HealthChart;
class OperationsDock;
class RegionModel;
class RegionOverview;
class ReplayBar;
class ShortcutsOverlay;
class WorkerTable;

// The console's main window, one view of a FleetSession: region overview (worst first) beside the focused region's
// charts, the worker table in a dock, and a status bar that says how live the data is. It shows the session's state
// and creates no network object; its commands live in an ActionRegistry, its charts share one ChartTimeWindow.
class ConsoleWindow : public QMainWindow
{
    Q_OBJECT

public:
    ConsoleWindow(FleetSession *session, QSettings *settings, QWidget *parent = nullptr);
    ~ConsoleWindow() override;

    FleetSession *session() const { return m_session; }
    ActionRegistry *actions() const { return m_actions; }
    ChartTimeWindow *timeWindow() const { return m_timeWindow; }
    void connectTo(const ConnectionProfile &profile, const QString &token); // the session's, for convenience
    bool openConnectDialog(); // modal; connects and returns true when the user connected
    void setDemo(const QString &description); // shows the DEMO badge
    void applyTheme(const Theme &theme);
    void restoreLayout();
    void saveLayout();

    FleetStore *store() const;
    FleetConnection *connection() const;
    RegionModel *regionModel() const;
    RegionOverview *regionOverview() const { return m_overview; }
    ChartPanel *chartPanel() const { return m_charts; }
    WorkerTable *workerTable() const { return m_workers; }
    ConnectionIndicator *connectionIndicator() const { return m_indicator; }
    ShortcutsOverlay *shortcutsOverlay() const { return m_shortcuts; }
    OperationsDock *operationsDock() const { return m_operations; }
    // The failover commands, as the menu, the shortcuts and the context menus run them: each opens an ActionDialog
    // (non-blocking; the open one is returned, also by actionDialog()) whose confirmed actions the session performs.
    ActionDialog *openProvisionDialog(const QString &region = {}); // the recommendation for `region` or the worst
    ActionDialog *openRegionDialog(bool drain, const QString &region = {});
    ActionDialog *openActionDialog(const QList<FleetAction> &actions, const QString &context);
    ActionDialog *actionDialog() const { return m_actionDialog; }
    // Status updates (non-blocking; the open composer is returned, also by statusDialog()).
    StatusUpdateDialog *openStatusUpdateDialog(const QString &region = {});
    StatusUpdateDialog *statusDialog() const { return m_statusDialog; }
    IncidentDialog *openIncidentDialog();
    // File > Open incident recording...: a bundle (`path`, or one chosen in a file dialog) read off the GUI thread and
    // played in a window of its own, on a session of its own (this window's fleet is untouched). `opened` gets the
    // new window, or nothing with the reason (also shown in a message box when `quiet` is false).
    void openIncidentRecording(const QString &path = {},
        std::function<void(ConsoleWindow *, const QString &)> opened = {}, bool quiet = false);
    ReplayBar *replayBar() const { return m_replayBar; }
    // The session profile's settings (non-blocking; null when no profile is open). Saving writes them with the
    // profile, the typed key to the keychain, and applies them to the session at once.
    SettingsDialog *openSettingsDialog();
    SettingsDialog *settingsDialog() const { return m_settingsDialog; }
    void saveSettings(const QString &profile, const ProfileSettings &chosen, const QString &key);
    // The war-room display: a second, read-only view of the same session, full screen on `screen` (by default a
    // screen other than this window's, when there is one). Its exit chord closes it; the console stays.
    WarRoomView *openWarRoom(QScreen *screen = nullptr);
    WarRoomView *warRoom() const { return m_warRoom; }
    DesktopNotifier *notifier() const { return m_notifier; }
    TrayStatus *tray() const { return m_tray; }
    // The tray icon and desktop notifications (on by default; off for a wall display).
    void setDesktopPresence(bool on);
    const ConnectionProfile &profile() const;
    QString focusedRegion() const;
    void focusRegion(const QString &id); // as if the user chose it: stops following the worst region
    void followWorstRegion();
    Status exportChart(HealthChart *chart, const QString &path);

Q_SIGNALS:
    void firstDataShown(); // the first snapshot of this connection is on screen

private:
    void showReplay(); // the session plays a bundle: the strip, the badge, no desktop presence

protected:
    void closeEvent(QCloseEvent *event) override;
    void changeEvent(QEvent *event) override;
    void showEvent(QShowEvent *event) override;

private:
    friend class ConsoleCommands; // the command table: the state it acts on is the window's
    void showRegion(const QString &id, const QString &name);
    void autoFocusWorst();
    void updateBadges();
    void styleBadges();
    void onProfileChanged();
    void onConnectionChanged(FleetConnection *connection);
    void updateFleetTime();
    void updateAlerts(); // the team's alerts on the tiles and the chart header, and how old they are
    void updateHeaderVerdict();
    QString nextStepsFor(Verdict verdict) const;
    void exportCurrentChart(HealthChart *chart);
    void stepRegion(int delta);
    void onActionFinished(const ActionController::Tracked &tracked);
    void remindExpiring();
    void updateOutboxState();
    void syncNotificationChoices(); // the View menu's notification checks show the profile's choice

    QPointer<FleetSession> m_session;
    QSettings *m_settings;
    ActionRegistry *m_actions;
    ChartTimeWindow *m_timeWindow;
    RegionOverview *m_overview;
    ChartPanel *m_charts;
    WorkerTable *m_workers;
    QDockWidget *m_workersDock;
    OperationsDock *m_operations;
    QDockWidget *m_operationsDock;
    QPointer<ActionDialog> m_actionDialog;
    QSet<QString> m_reminded; // operations whose expiry was announced
    QPointer<StatusUpdateDialog> m_statusDialog;
    QPointer<SettingsDialog> m_settingsDialog;
    QPointer<WarRoomView> m_warRoom;
    DesktopNotifier *m_notifier = nullptr;
    TrayStatus *m_tray = nullptr;
    QPushButton *m_outboxState; // status updates queued, and why
    QPushButton *m_undo; // offered right after an action with an inverse is done
    QPushButton *m_unconfirmed; // actions whose outcome is unknown: opens the Activity tab
    void updateUnconfirmed();
    QList<int> m_undoHandles; // the actions the status bar's Undo reverses: every request of one confirmed action
    QHash<int, QList<int>> m_groupOf; // an action's handle -> the handles confirmed with it in one dialog
    ConnectionIndicator *m_indicator;
    ShortcutsOverlay *m_shortcuts;
    QWidget *m_productionStrip;
    ReplayBar *m_replayBar = nullptr;
    QLabel *m_demoBadge;
    QLabel *m_productionBadge;
    QLabel *m_insecureBadge;
    QLabel *m_identity;
    QLabel *m_fleetTime;
    QString m_demo;
    bool m_followWorst = true;
    bool m_docksSized = false; // by a restored layout, or once on the first show
    bool m_autoSelecting = false;
    bool m_firstDataSeen = false;
};

} // namespace fleet
