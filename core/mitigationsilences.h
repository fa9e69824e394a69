#pragma once

#include "actioncontroller.h"
#include "alertmanager.h"
#include "fleetaction.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

namespace fleet {

class FleetSession;

// Silences that belong to a mitigation (issue #23). A drain of a region, or a provision of replacements for it, can
// silence that region's alerts while it lasts: the silence is asked for with the action and created once the fleet
// accepted it (its comment names the operation and the reason; never for an action the fleet refused), ends at the
// action's expiry plus kMarginMs, and is expired when the region is resumed from this console. Each silence is one
// journal entry of the local audit log (kind "silence"; its outcome is its state), so the Activity view lists it and a
// restarted console follows it again. Alertmanager gives a silence a new id when it is edited: a silence is followed
// by the key written into its comment, not by its id. One request per silence, to the one Alertmanager configured
// (a cluster shares its silences): never one per member, never sent twice (AlertmanagerClient::createSilence looks an
// unknown outcome up by the key). Qt Core; the session owns it with the AlertWatch.
class MitigationSilences : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kMarginMs = 15 * 60 * 1000;
    // An action that never expires still needs an end (Alertmanager has no endless silence): this long, unless the
    // region is resumed first.
    static constexpr qint64 kDefaultLengthMs = 4 * 60 * 60 * 1000;
    static constexpr int kRefreshSeconds = 30;

    enum class State {
        Waiting, // asked for with an action the fleet has not accepted yet
        Creating, // sent, no answer yet (or an unknown outcome being looked up)
        Active,
        Unknown, // whether Alertmanager has it could not be proved: shown as such, looked for by its key
        NotCreated, // the action was refused or failed, or Alertmanager refused the silence
        Expired, // expired by this console (the region was resumed) or by someone in Alertmanager
        Ended, // ran to its end
    };
    Q_ENUM(State)

    struct Silence
    {
        qint64 journalId = 0;
        QString key; // written into the comment: how it is found again after an id change or a lost answer
        QString region;
        QString id; // Alertmanager's id as last seen ("" until created)
        QString operation; // the mitigation's operation id, once the fleet accepted it
        QString action; // "drain region eu-west"
        QString reason;
        QString createdBy;
        qint64 endsAtMs = 0; // wall clock
        qint64 createdAtMs = 0; // when it was seen active first (wall clock), 0 before
        qint64 endedAtMs = 0; // when it was seen expired or ended
        State state = State::Waiting;
        QString message; // the latest word on it, for a person
        int actionHandle = 0; // ActionController's, while waiting
        QString expireWhenFound; // why it is to be expired as soon as its id is known (the region was resumed)
        bool isOpen() const
        {
            return state == State::Waiting || state == State::Creating || state == State::Active
                || state == State::Unknown;
        }
    };

    MitigationSilences(FleetSession *session, const AlertmanagerConfig &config, QObject *parent = nullptr);

    // The matchers of a region's silence: region="<region>" (an id the fleet checked).
    static QList<AmMatcher> matchersFor(const QString &region);
    // Only a drain of a region or a provision in one is a mitigation that can carry a silence.
    static bool canCarrySilence(FleetAction::Kind kind);
    // When the silence of `action` ends, on the wall clock: its expiry (fleet time, `fleetNowMs` now) plus the margin,
    // or kDefaultLengthMs when it never expires.
    static qint64 endFor(const FleetAction &action, qint64 fleetNowMs, qint64 wallNowMs);
    // "until 06:12 UTC (the drain's expiry + 15 min)" for the dialog's offer.
    static QString endText(const FleetAction &action, qint64 fleetNowMs, qint64 wallNowMs);

    // Silences the alerts of `region` (by default `action`'s) once the action `handle` (ActionController) is
    // accepted by the fleet; recorded in the journal at once. Returns false, with the reason in `why`, when it cannot
    // be asked.
    bool silenceWith(int handle, const FleetAction &action, QString *why = nullptr, const QString &region = {});
    // Expires every open silence of `region` made by this console.
    void expireRegion(const QString &region, const QString &why);
    // Expires the silence with `key` (the engineer's choice in the silences panel).
    void expire(const QString &key, const QString &why);
    // Reads Alertmanager's silences: follows an id change by the key, notices a silence expired or ended there,
    // settles an unknown outcome.
    void refresh();
    // Picks up what the journal says is still open (a restarted console). Safe to call again.
    void resumeFromJournal();

    const QList<Silence> &silences() const { return m_silences; }
    QString alertmanagerUrl() const { return m_config.url.toString(QUrl::RemoveUserInfo); }

    static QString describe(State state);
    // "active until 06:12 UTC (1h 02m left): region=eu-west, op-000003 drain region eu-west: loss upstream".
    static QString describe(const Silence &silence, qint64 nowMs);

Q_SIGNALS:
    void changed();

private:
    Silence *byKey(const QString &key);
    void create(Silence &s);
    void setState(Silence &s, State state, const QString &message);
    void onActionChanged(const ActionController::Tracked &t);
    void record(Silence &s);

    FleetSession *m_session;
    AlertmanagerConfig m_config;
    AlertmanagerClient *m_client;
    QList<Silence> m_silences;
    QTimer m_refresh;
    bool m_refreshing = false;
};

} // namespace fleet
