#pragma once

#include "healthtimeline.h"
#include "incidentbundle.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace fleet {

class FleetSession;

// An incident bundle played back through a session (issue #24, item 3): the session's store is fed the bundle's
// regions, health and operations second by second as if they came from the fleet, so the tiles, charts, verdicts,
// timeline and war room show the recorded incident as they would have live, at 1x to 60x, paused or moved to any
// second of the window. Nothing here has a connection: no request leaves the console, every action says it is a
// replay, and the session records nothing of it. The health monitor re-judges the recorded health with the bundle's
// thresholds; the timeline shows the verdicts as they were recorded.
class IncidentReplay : public QObject
{
    Q_OBJECT

public:
    IncidentReplay(FleetSession *session, bundle::Bundle bundle, QString name);

    // Reads and checks a bundle file (waits for the disk: call it off the GUI thread).
    static Result<bundle::Bundle> load(const QString &path);

    const bundle::Header &header() const { return m_bundle.header; }
    const bundle::Bundle &bundle() const { return m_bundle; }
    QString name() const { return m_name; } // the file's name, for the badge
    qint64 fromMs() const { return m_fromMs; }
    qint64 toMs() const { return m_toMs; }
    qint64 positionMs() const { return m_positionMs; }
    double speed() const { return m_speed; }
    bool isPlaying() const { return m_timer.isActive(); }
    bool isAtEnd() const { return m_positionMs >= m_toMs; }

    static constexpr double kMinSpeed = 1;
    static constexpr double kMaxSpeed = 60;

    void play();
    void pause();
    void setSpeed(double speed); // clamped to 1x..60x
    // Shows the fleet as it was at `ms` (clamped to the window): the store is rebuilt up to that second.
    void seek(qint64 ms);
    // "REPLAY · incident.jsonl · 09:31:05 UTC · 10x" (paused, ended).
    QString badgeText() const;

Q_SIGNALS:
    void positionChanged(qint64 ms);
    void stateChanged(); // playing, paused, speed, ended

private:
    void tick();
    void feedTo(qint64 ms); // from the last second fed to `ms`
    void applyRegions(qint64 second);
    std::vector<Operation> operationsAt(qint64 ms) const;

    FleetSession *m_session;
    bundle::Bundle m_bundle;
    QString m_name;
    HealthTimeline m_source; // the bundle's health, read from as the replay moves on
    qint64 m_fromMs = 0;
    qint64 m_toMs = 0;
    qint64 m_positionMs = 0;
    qint64 m_fedSecond = 0; // the last second in the store
    qsizetype m_nextEvent = 0; // the first bundle event not yet in the store or timeline
    double m_speed = 1;
    QTimer m_timer;
    QElapsedTimer m_clock;
};

} // namespace fleet
