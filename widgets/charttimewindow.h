#pragma once

#include <QList>
#include <QObject>

class QAction;

namespace fleet {

// The time window of one view's charts, shared by all of them: follow live (the newest `span` seconds), or paused on
// a window the user chose by zooming, panning or pausing. Every chart of the view shows this one window, so moving
// one moves all; the object owns the actions that move it (pause, back to live, zoom, pan, the range presets), which
// the view registers with its ActionRegistry. Times are Unix seconds (UTC).
class ChartTimeWindow : public QObject
{
    Q_OBJECT

public:
    struct Actions
    {
        QAction *pauseOrResume = nullptr; // Space
        QAction *backToLive = nullptr; // End
        QAction *zoomIn = nullptr; // +
        QAction *zoomOut = nullptr; // -
        QAction *panBack = nullptr; // Left
        QAction *panForward = nullptr; // Right
        QList<QAction *> spans; // 1..4: the last 5 min, 1 h, 6 h, 24 h
    };

    static constexpr int kMinSpan = 60; // zooming in stops at one minute
    static constexpr qint64 kMaxSpan = 7 * 86400;

    explicit ChartTimeWindow(QObject *parent = nullptr);

    static const QList<int> &presetSpans(); // the range buttons, in seconds
    const Actions &actions() const { return m_actions; }

    int spanSeconds() const { return m_span; }
    bool isFollowingLive() const { return m_follow; }
    // What the newest data is called on the charts: "live", or "replay" in a window that plays a recording.
    QString edgeName() const { return m_edgeName; }
    void setEdgeName(const QString &name) { m_edgeName = name; }
    qint64 from() const { return m_from; }
    qint64 to() const { return m_to; }

    // While following, the window ends at `latestSecond` (the newest data); charts call this as they refresh. It
    // moves the window without windowChanged: following live is the charts' own refresh, not a change of view.
    void followTo(qint64 latestSecond);

    void showLast(int seconds); // "the last N": that width, following live
    void setSpanSeconds(int seconds); // the width; a paused window keeps its right edge
    void setWindow(qint64 fromSecond, qint64 toSecond); // exactly this, paused
    void pause(); // holds the current window while data keeps arriving
    void backToLive();
    void togglePause();
    void zoomBy(double factor, double anchor = 0.5); // factor < 1 zooms in; anchor 0..1 across the window
    void panBy(double fraction); // of the window width; negative is back in time

Q_SIGNALS:
    void windowChanged(); // the user (or code acting for the user) moved the window: every chart redraws
    void followLiveChanged(bool following);
    void spanChanged(int seconds);

private:
    void setFollow(bool follow);
    void updateActions();

    Actions m_actions;
    int m_span = 3600;
    bool m_follow = true;
    QString m_edgeName = QStringLiteral("live");
    qint64 m_from = 0;
    qint64 m_to = 0;
};

// "5 min", "1 h", "24 h"
QString formatSpan(qint64 seconds);

} // namespace fleet
