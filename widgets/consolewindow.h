#pragma once

#include "connectionprofiles.h"
#include "theme.h"

#include <QMainWindow>
#include <QPointer>

class QAction;
class QDockWidget;
class QLabel;
class QSettings;

namespace fleet {

class ChartPanel;
class ConnectionIndicator;
class FleetConnection;
class FleetStore;
class HealthChart;
class HistoryLoader;
class RegionModel;
class RegionOverview;
class ShortcutsOverlay;
class WorkerModel;
class WorkerTable;

// The console's main window: region overview (worst first) beside the focused region's charts, the worker table in a
// dock, and a status bar that says how live the data is. Owns the live state (store and models) and the connection.
class ConsoleWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit ConsoleWindow(QSettings *settings, QWidget *parent = nullptr);
    ~ConsoleWindow() override;

    void connectTo(const ConnectionProfile &profile, const QString &token);
    bool openConnectDialog(); // modal; connects and returns true when the user connected
    void setDemo(const QString &description); // shows the DEMO badge
    void applyTheme(const Theme &theme);
    void restoreLayout();
    void saveLayout();

    FleetStore *store() const { return m_store; }
    FleetConnection *connection() const;
    RegionModel *regionModel() const { return m_regionModel; }
    RegionOverview *regionOverview() const { return m_overview; }
    ChartPanel *chartPanel() const { return m_charts; }
    WorkerTable *workerTable() const { return m_workers; }
    ConnectionIndicator *connectionIndicator() const { return m_indicator; }
    ShortcutsOverlay *shortcutsOverlay() const { return m_shortcuts; }
    const ConnectionProfile &profile() const { return m_profile; }
    QString focusedRegion() const;
    void focusRegion(const QString &id); // as if the user chose it: stops following the worst region
    void followWorstRegion();
    bool exportChart(HealthChart *chart, const QString &path, QString *error);

Q_SIGNALS:
    void firstDataShown(); // the first snapshot of this connection is on screen

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createActions();
    void showRegion(const QString &id, const QString &name);
    void autoFocusWorst();
    void updateBadges();
    void updateFleetTime();
    void exportCurrentChart(HealthChart *chart);
    void stepRegion(int delta);

    QSettings *m_settings;
    FleetStore *m_store;
    RegionModel *m_regionModel;
    WorkerModel *m_workerModel;
    QPointer<FleetConnection> m_connection;
    QPointer<HistoryLoader> m_history;
    ConnectionProfile m_profile;
    RegionOverview *m_overview;
    ChartPanel *m_charts;
    WorkerTable *m_workers;
    QDockWidget *m_workersDock;
    ConnectionIndicator *m_indicator;
    ShortcutsOverlay *m_shortcuts;
    QWidget *m_productionStrip;
    QLabel *m_demoBadge;
    QLabel *m_productionBadge;
    QLabel *m_insecureBadge;
    QLabel *m_identity;
    QLabel *m_fleetTime;
    QString m_demo;
    Theme m_theme;
    bool m_followWorst = true;
    bool m_autoSelecting = false;
    bool m_firstDataSeen = false;
};

} // namespace fleet
