#pragma once

#include "healthchart.h"
#include "healthverdict.h"

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QButtonGroup;
class QLabel;
class QToolButton;

namespace fleet {

class FleetStore;

// The charts of the focused region, kept in step: failures per minute by reason, packet loss, RTT p95, workers by
// state, queue depth and wait. One time range for all (5 min / 1 h / 6 h / 24 h), following live by default;
// zooming or panning one chart moves them all and pauses; back to live returns. Operations are drawn as markers.
class ChartPanel : public QWidget
{
    Q_OBJECT

public:
    explicit ChartPanel(FleetStore *store, QWidget *parent = nullptr);

    void setRegion(const QString &id, const QString &name);
    QString region() const { return m_region; }
    void setThresholds(const VerdictThresholds &thresholds);
    void setVerdict(Verdict verdict, const QString &reason); // shown beside the region's name
    QString verdictText() const;
    void setTheme(const Theme &theme);

    void setSpanSeconds(int seconds);
    int spanSeconds() const { return m_span; }
    bool isFollowingLive() const { return m_follow; }
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

private:
    void syncWindow(HealthChart *source, qint64 fromSecond, qint64 toSecond);
    void setFollow(bool follow);
    void rebuildMarkers();
    void updateHeader();

    QPointer<FleetStore> m_store;
    QString m_region;
    QString m_regionName;
    QList<HealthChart *> m_charts;
    QLabel *m_title = nullptr;
    QLabel *m_verdict = nullptr;
    Verdict m_verdictValue = Verdict::NoData;
    QString m_verdictReason;
    bool m_stale = false;
    Theme m_theme;
    QButtonGroup *m_rangeButtons = nullptr;
    QToolButton *m_liveButton = nullptr;
    QTimer m_refresh;
    bool m_dirty = true;
    bool m_markersDirty = true;
    bool m_follow = true;
    int m_span = 3600;
};

} // namespace fleet
