#pragma once

#include "alertmanager.h"
#include "theme.h"

#include <QElapsedTimer>
#include <QHash>
#include <QKeySequence>
#include <QPointer>
#include <QTimer>
#include <QWidget>

class QGridLayout;
class QLabel;
class QScreen;

namespace fleet {

class ChartTimeWindow;
class ConnectionIndicator;
class FleetSession;
class HealthChart;
class WarRoomPanel;
class WarRoomVeil;

// The war-room display: a second, read-only view of a FleetSession for a screen on the wall, legible from across
// the room and left alone for days. Every region at once, its verdict as colour, glyph and word; degraded and down
// regions brought forward with their charts large; the incident the status page shows, how long since it began and
// since the last public update; operations in flight; a UTC clock. When the data is stale or the connection lost
// the whole screen says so, with the reason and the age of the data, and clears by itself when data returns.
// Type and line weights follow the screen's height (lines 3 px at 4K, drawn without Qt's stroker). It has no
// enabled action: keys, clicks and the window manager's close are ignored, except the exit chord (exitChord()).
// Widgets are made per region and reused, so nothing grows while it runs.
class WarRoomView : public QWidget
{
    Q_OBJECT

public:
    explicit WarRoomView(FleetSession *session, QWidget *parent = nullptr);
    ~WarRoomView() override;

    static QKeySequence exitChord(); // Ctrl+Shift+Q
    // Full screen on `screen` (the primary screen if null).
    void showOnScreen(QScreen *screen);

    QStringList regionOrder() const; // region ids as shown: brought-forward regions first, worst first
    QStringList featuredRegions() const; // the degraded and down ones, shown large
    bool isStaleShown() const;
    QString staleText() const; // what the veil over the whole screen says; empty when the data is live
    QString incidentText() const;
    QString operationsText() const;
    // A region's alerts as its panel shows them ("Alerts: 1 firing: FleetRegionPacketLoss"), empty when none or no
    // Alertmanager; and the wall's line on Alertmanager itself (its firing count, the age of the last poll, stale).
    QString alertsText(const QString &region) const;
    QString alertStatusText() const;
    QString clockText() const;
    QList<HealthChart *> charts() const;
    double scale() const { return m_scale; } // 1.0 at 1080 lines, 2.0 at 4K
    int lineWidth() const;

    // Re-reads everything now (the view does this by itself twice a second); for tests and benchmarks.
    void refreshNow();

Q_SIGNALS:
    void exitRequested(); // the exit chord: the owner closes the view (or quits)

protected:
    bool event(QEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void tick();
    void syncRegions();
    void relayout();
    void applyScale();
    void updateIncident();
    void updateOperations();
    void updateAlertStatus();
    static QString alertsLine(const QList<AmAlert> &alerts, bool stale);
    void updateStale();
    void lockDown(QWidget *widget); // no focus, no mouse, every action disabled

    QPointer<FleetSession> m_session;
    Theme m_theme;
    ChartTimeWindow *m_window;
    ConnectionIndicator *m_indicator;
    QLabel *m_fleet;
    QLabel *m_incident;
    QLabel *m_operations;
    QLabel *m_clock;
    QLabel *m_clockNote;
    QLabel *m_footer;
    QLabel *m_alertStatus; // Alertmanager: firing count, age of the last poll; hidden without one
    QWidget *m_featuredArea;
    QGridLayout *m_featuredGrid;
    QWidget *m_restArea;
    QGridLayout *m_restGrid;
    WarRoomVeil *m_veil;
    QHash<QString, WarRoomPanel *> m_panels;
    QStringList m_order;
    QStringList m_featured;
    QString m_layoutKey;
    QString m_credentialsProblem; // why the session could not connect (no token), shown on the veil
    QTimer m_tick;
    QTimer m_chartTimer;
    QElapsedTimer m_sinceStart;
    QStringList m_owed; // regions whose charts owe a redraw
    bool m_chartsDirty = true;
    bool m_regionsDirty = true;
    bool m_exiting = false;
    double m_scale = 1.0;
};

} // namespace fleet
