#pragma once

#include "healthchart.h"
#include "healthverdict.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QTimer>
#include <QWidget>

class QButtonGroup;
class QLabel;
class QToolButton;

namespace fleet {

class ChartTimeWindow;
class FleetStore;

// The charts of the focused region: failures per minute by reason, packet loss, RTT p95, workers by state, queue
// depth and wait. All show the view's one ChartTimeWindow (5 min / 1 h / 6 h / 24 h, following live by default):
// zooming or panning one chart moves the window, so all move, and pauses; back to live returns. Operations are
// drawn as markers.
class ChartPanel : public QWidget
{
    Q_OBJECT

public:
    // `window` is the view's; without one the panel makes its own.
    explicit ChartPanel(FleetStore *store, ChartTimeWindow *window = nullptr, QWidget *parent = nullptr);

    ChartTimeWindow *timeWindow() const { return m_window; }
    void setContextActions(const QList<QAction *> &actions); // each chart's right-click menu

    void setRegion(const QString &id, const QString &name);
    QString region() const { return m_region; }
    void setThresholds(const VerdictThresholds &thresholds);
    void setVerdict(Verdict verdict, const QString &reason); // shown beside the region's name
    QString verdictText() const;
    // The next steps for the region in view, with their shortcuts ("Next: provision replacements (Ctrl+Shift+P)
    // · post a status update (Ctrl+Shift+S)"), under the header; empty hides the line.
    void setNextSteps(const QString &text);
    QString nextStepsText() const;
    // Where the history comes from when there is something to say (Prometheus, or why it is not used, and its
    // warnings), under the charts as text; empty hides the line.
    void setSourceNote(const QString &text);
    // The region's alerts from the team's Alertmanager and how old they are, under the header as text; empty hides
    // the line.
    void setAlerts(const QString &text);
    QString alertsText() const;
    QString sourceNoteText() const;
    void setTheme(const Theme &theme);

    void setSpanSeconds(int seconds); // "the last N seconds": returns to live
    int spanSeconds() const;
    bool isFollowingLive() const;
    void pause(); // holds the current window while data keeps arriving
    void backToLive();
    void togglePause();
    void setStaleText(const QString &text);

    void refreshNow();
    QList<HealthChart *> charts() const { return m_charts; }
    HealthChart *currentChart() const; // the one with focus, or the first

    static const QList<int> &spans(); // the range buttons, in seconds

Q_SIGNALS:
    void followLiveChanged(bool following);
    void spanChanged(int seconds);
    void exportRequested(fleet::HealthChart *chart);

protected:
    void changeEvent(QEvent *event) override;

private:
    void rebuildMarkers();
    void updateHeader();

    QPointer<FleetStore> m_store;
    ChartTimeWindow *m_window;
    QString m_region;
    QString m_regionName;
    QList<HealthChart *> m_charts;
    QLabel *m_title = nullptr;
    QLabel *m_verdict = nullptr;
    QLabel *m_next = nullptr;
    QLabel *m_sourceNote = nullptr;
    QLabel *m_alerts = nullptr;
    Verdict m_verdictValue = Verdict::NoData;
    QString m_verdictReason;
    bool m_stale = false;
    Theme m_theme;
    QButtonGroup *m_rangeButtons = nullptr;
    QToolButton *m_liveButton = nullptr;
    static constexpr int kRoundMs = 250; // each chart at most this often
    QTimer m_refresh;
    int m_nextChart = -1; // the chart the running round refreshes next; -1 between rounds
    QElapsedTimer m_roundStarted;
    bool m_dirty = true;
    bool m_markersDirty = true;
};

} // namespace fleet
