#pragma once

#include "alertwatch.h"
#include "connectionprofiles.h"
#include "fleetconnection.h"
#include "fleettypes.h"
#include "healthverdict.h"
#include "historyloader.h"
#include "incidentbundle.h"
#include "profilesettings.h"
#include "prometheus.h"
#include "prometheushistory.h"
#include "statuspage.h"

#include <QHash>
#include <QObject>
#include <QPointer>

#include <functional>

namespace fleet {

class ActionController;
class AuditModel;
class CurrentIncident;
class FleetStore;
class HealthMonitor;
class IncidentRecorder;
class IncidentReplay;
class IncidentTimeline;
class StatusBackend;
class StatusOutbox;

class LocalStore;
class MitigationSilences;
class OperationModel;
class RegionModel;
class RegionOrder;
class WorkerModel;

// The application core of one fleet: everything a view shows and everything an action needs, owned outside any
// window (as a document is in an editor). It owns the connection profile, the live connection, the fleet store with
// its history backfill, the shared models, the HealthMonitor (the one judge of region verdicts) and the local store.
// Views receive a session and never create network objects; two views of one session can never disagree. Switching
// profiles, reconnecting and shutting down are the session's; a second fleet is a second session. Qt Core only.
class FleetSession : public QObject
{
    Q_OBJECT

public:
    explicit FleetSession(QObject *parent = nullptr);
    ~FleetSession() override;

    // Connects to `profile` with `token` (kept in memory only, for reconnecting; never logged or saved). Another
    // fleet than the current one empties the store at once: nothing of the previous fleet shows under the new name.
    void connectTo(const ConnectionProfile &profile, const QString &token);
    // Opens a saved profile: its token from where the profile says (tokens::forProfile: a token file, FLEET_TOKEN, or
    // the keychain, asynchronously), then connectTo. When the token cannot be had, nothing changes and
    // credentialsNeeded says why; whichever view is showing answers it (the console opens the connect dialog).
    void connectToProfile(const ConnectionProfile &profile);
    // Adjusts the client settings of every connection made from now on (timeouts, attempts): for fleetctl's options
    // and for tests that inject faults. The profile still decides the URL, the token and TLS.
    void setClientAdjuster(std::function<void(ClientConfig &)> adjust) { m_adjust = std::move(adjust); }
    void reconnect(); // drops the connection and starts again with the same profile and token
    void shutdown(); // stops the connection; the state stays readable
    bool hasProfile() const { return !m_profile.name.isEmpty() || m_profile.url.isValid(); }

    const ConnectionProfile &profile() const { return m_profile; }
    FleetConnection *connection() const { return m_connection; }
    ConnectionStatus status() const;
    bool isLive() const { return status().state == ConnectionState::Live; }
    // Who the token belongs to; empty until /v1/me answered on this connection.
    std::optional<Identity> identity() const { return m_identity; }
    // The reason `role` may not act now, in words ("not connected", "needs the operator role"), or empty.
    QString whyCannotAct(Role needed) const;

    // Asks a fleet who `token` belongs to (GET /v1/me) without connecting any session: the connect dialog's test.
    // One attempt with a short timeout (a person is waiting). The returned object is the request in flight, a child
    // of `context`; it is gone when `done` has run. Views use this rather than creating network objects.
    static QObject *probe(const ConnectionProfile &profile, const QString &token, QObject *context,
        std::function<void(ApiResult<Identity>)> done);

    // Runs actions (provision, drain, resume, cancel) on this fleet and follows them until really done.
    ActionController *actions() const { return m_actions; }
    FleetStore *store() const { return m_store; }
    HealthMonitor *healthMonitor() const { return m_monitor; }
    RegionModel *regionModel() const { return m_regionModel; }
    RegionOrder *regionOrder() const { return m_regionOrder; } // the one "worst first" every view shows
    WorkerModel *workerModel() const { return m_workerModel; }
    OperationModel *operationModel() const { return m_operationModel; }
    AuditModel *auditModel() const { return m_auditModel; }
    HistoryLoader *historyLoader() const { return m_history; }

    // The local store (audit log of actions, status-update outbox). Opening it is the application's choice (the
    // default path, or a test's file); a failure leaves the session usable for watching and says why.
    Status openLocalStore(const QString &path);
    LocalStore *localStore() const { return m_local; }
    QString localStoreError() const { return m_localError; }

    // Status updates: the durable outbox (null while the local store is not open) and where it publishes. The
    // status page is configured separately from the fleet (its own URL, page and API key).
    StatusOutbox *statusOutbox() const { return m_outbox; }
    void setStatusPage(const StatusPageConfig &config);
    const StatusPageConfig &statusPage() const { return m_statusPage; }
    // The status page behind its interface, built from statusPage(); nullptr with the reason when it is not usable.
    StatusBackend *statusBackend() const { return m_statusBackend; }
    // The profile's own settings (ProfileSettings: Settings in the console): the verdict thresholds apply at once;
    // its status page is used with the API key from STATUSPAGE_API_KEY, else a key given this run
    // (useStatusPageKey), else the desktop keychain (read asynchronously; statusPageChanged follows). A page id
    // left empty means no status page. A status page the command line chose (lockStatusPage) is kept.
    void applySettings(const ProfileSettings &settings);
    const ProfileSettings &settings() const { return m_settings; }
    // The command line (or the demo) chose the status page: settings never replace it this run. `by` says what
    // chose it ("--page-id", "the demo").
    void lockStatusPage(const QString &by) { m_statusPageLockedBy = by; }
    QString statusPageLockedBy() const { return m_statusPageLockedBy; }
    // The same for Prometheus and Alertmanager (--prometheus, --alertmanager): the profile's saved ones are not used
    // this run. Otherwise applySettings sets them from the profile, with their credentials from the environment or
    // the keychain (ProfileSettings::monitoringKeychainAccount), read asynchronously.
    void lockMonitoring(const QString &by) { m_monitoringLockedBy = by; }
    QString monitoringLockedBy() const { return m_monitoringLockedBy; }
    // A key typed in Settings, for `pageId`, kept in memory for this run (used when the keychain cannot keep it).
    void useStatusPageKey(const QString &pageId, const QString &key);
    // Why the status page has no key, in words (the keychain's answer), or empty.
    QString statusPageKeyProblem() const { return m_keyProblem; }
    // Verdict changes, operations and status updates merged, for the incident timeline and the postmortem draft.
    IncidentTimeline *timeline() const { return m_timeline; }
    // Plays an incident bundle back through this session (issue #24): only on a session that is not connected to a
    // fleet (a window of its own: the console's live session is never replaced by a replay). From then on nothing
    // here can act, the status is "live" on the replay's clock, and the bundle's thresholds judge its health.
    Status startReplay(bundle::Bundle bundle, const QString &name);
    IncidentReplay *replay() const { return m_replay; }
    bool isReplaying() const { return m_replay != nullptr; }
    // The incident record in the local store (issue #24): what an incident is made of, kept across restarts.
    IncidentRecorder *recorder() const { return m_recorder; }
    // The incident the status page shows now (read from the page), for views that only watch.
    CurrentIncident *currentIncident() const { return m_currentIncident; }
    // The fleet's own Prometheus (issue #23): from the next connection on, the charts' history comes from it, and
    // from the Fleet API when it cannot answer (historyNote() says which, and why). An empty URL: the Fleet API only.
    void setPrometheus(const PrometheusConfig &config, int scrapeSeconds, const PrometheusQueries &queries);
    const PrometheusConfig &prometheus() const { return m_prometheus; }
    QString historyNote() const { return m_history ? m_history->note() : QString(); }
    // The fleet's Alertmanager, polled every `intervalSeconds` (issue #23); null until set.
    void setAlertmanager(const AlertmanagerConfig &config, int intervalSeconds);
    AlertWatch *alertWatch() const { return m_alertWatch; }
    const AlertmanagerConfig &alertmanager() const { return m_alertmanager; }
    // Silences that belong to a mitigation, in the same Alertmanager; null until set.
    MitigationSilences *silences() const { return m_silences; }

Q_SIGNALS:
    void profileChanged(const fleet::ConnectionProfile &profile);
    // A new connection object (after connectTo or reconnect); views re-attach their indicators.
    void connectionChanged(fleet::FleetConnection *connection);
    void statusChanged(const fleet::ConnectionStatus &status);
    void identityChanged(); // identity() changed (received, or forgotten on a new connection)
    void firstSnapshot(); // the first snapshot of this connection is in the store
    void localStoreChanged(); // opened (the outbox is new), or failed to open
    void statusPageChanged();
    void credentialsNeeded(const fleet::ConnectionProfile &profile, const QString &why);
    void historyNoteChanged(const QString &note); // where the charts' history comes from, and why (historyNote)
    void alertWatchChanged(); // alertWatch() is a new one
    void replayChanged(); // a replay started

private:
    void dropConnection();
    void resumeActionsWhenReady();
    void applyMonitoring(const ProfileSettings &settings, int generation);
    void buildHistory(); // the history loader of the current connection, from the Prometheus configured now

    ConnectionProfile m_profile;
    QString m_token;
    std::function<void(ClientConfig &)> m_adjust;
    FleetStore *m_store;
    HealthMonitor *m_monitor;
    RegionModel *m_regionModel;
    RegionOrder *m_regionOrder;
    WorkerModel *m_workerModel;
    OperationModel *m_operationModel;
    AuditModel *m_auditModel;
    LocalStore *m_local;
    ActionController *m_actions;
    IncidentTimeline *m_timeline;
    IncidentRecorder *m_recorder = nullptr;
    IncidentReplay *m_replay = nullptr;
    StatusOutbox *m_outbox = nullptr;
    CurrentIncident *m_currentIncident = nullptr;
    StatusPageConfig m_statusPage;
    PrometheusConfig m_prometheus;
    int m_prometheusScrapeSeconds = 15;
    PrometheusQueries m_prometheusQueries = PrometheusQueries::defaults();
    QPointer<PrometheusClient> m_prometheusClient;
    QPointer<AlertWatch> m_alertWatch;
    MitigationSilences *m_silences = nullptr; // a child, replaced with the AlertWatch
    AlertmanagerConfig m_alertmanager;
    StatusBackend *m_statusBackend = nullptr; // a child; replaced with the status page
    QString m_statusProblem = QStringLiteral("no status page is configured");
    ProfileSettings m_settings;
    QString m_statusPageLockedBy;
    QString m_monitoringLockedBy;
    bool m_prometheusFromSettings = false; // as m_statusPageFromSettings
    bool m_alertmanagerFromSettings = false;
    bool m_statusPageFromSettings = false; // a profile without a page clears only a page its settings set
    QString m_keyProblem;
    QHash<QString, QString> m_typedKeys; // page id -> key typed this run; memory only
    int m_settingsGeneration = 0; // a keychain answer for older settings is dropped
    QString m_localError;
    QPointer<FleetConnection> m_connection;
    QPointer<HistoryLoader> m_history;
    std::optional<Identity> m_identity;
    bool m_awaitingFirstSnapshot = false;
};

} // namespace fleet
