#include "fleetsession.h"

#include "currentincident.h"
#include "incidentmetrics.h"
#include "incidentrecorder.h"
#include "incidentreplay.h"
#include "incidenttimeline.h"
#include "mitigationsilences.h"
#include "statusoutbox.h"

#include "actioncontroller.h"
#include "activitymodels.h"
#include "fleetclient.h"
#include "fleetstore.h"
#include "healthmonitor.h"
#include "historyloader.h"
#include "localstore.h"
#include "regionmodel.h"
#include "regionorder.h"
#include "tokensource.h"
#include "workermodel.h"

#include <QDateTime>
#include <QTimer>

#include <memory>
#include <optional>

namespace fleet {

FleetSession::FleetSession(QObject *parent)
    : QObject(parent)
    , m_store(new FleetStore(this))
    , m_monitor(new HealthMonitor(m_store, this)) // before the models: they read the verdicts it keeps
    , m_regionModel(new RegionModel(m_store, m_monitor, this))
    , m_regionOrder(new RegionOrder(m_regionModel, this))
    , m_workerModel(new WorkerModel(m_store, this))
    , m_operationModel(new OperationModel(m_store, this))
    , m_auditModel(new AuditModel(m_store, this))
    , m_local(new LocalStore(this))
    , m_actions(new ActionController(this))
    , m_timeline(new IncidentTimeline(this))
{
    m_currentIncident = new CurrentIncident(this);
    m_recorder = new IncidentRecorder(this);
    connect(m_recorder, &IncidentRecorder::restored, m_timeline, &IncidentTimeline::restore);
    // What a previous run left unfinished is picked up once this fleet is live and knows who we are.
    connect(this, &FleetSession::identityChanged, this, &FleetSession::resumeActionsWhenReady);
    connect(this, &FleetSession::statusChanged, this, &FleetSession::resumeActionsWhenReady);
    connect(m_store, &FleetStore::snapshotApplied, this, [this] {
        if (m_awaitingFirstSnapshot) {
            m_awaitingFirstSnapshot = false;
            Q_EMIT firstSnapshot();
        }
    });
}

FleetSession::~FleetSession()
{
    m_recorder->flush(); // the minute under way, before the store closes
    dropConnection();
    delete m_outbox; // before the local store it writes to
    m_outbox = nullptr;
}

void FleetSession::setPrometheus(const PrometheusConfig &config, int scrapeSeconds, const PrometheusQueries &queries)
{
    scrapeSeconds = std::max(scrapeSeconds, 1);
    if (config.url == m_prometheus.url && config.bearerToken == m_prometheus.bearerToken
        && config.basicAuth == m_prometheus.basicAuth && config.caFile == m_prometheus.caFile
        && config.insecure == m_prometheus.insecure && scrapeSeconds == m_prometheusScrapeSeconds
        && queries == m_prometheusQueries)
        return; // Settings saved again, or the keychain's answer for what is in use: the history stays as it is
    m_prometheus = config;
    m_prometheusScrapeSeconds = scrapeSeconds;
    m_prometheusQueries = queries;
    delete m_prometheusClient;
    // A connection in progress takes it at once: its history comes from the new source from now on (the past hours
    // again, once its loader is planned on the fleet's time).
    if (m_connection) {
        buildHistory();
        if (m_store->isLoaded())
            m_history->backfill(m_store->serverTime() / 1000);
    }
}

void FleetSession::setAlertmanager(const AlertmanagerConfig &config, int intervalSeconds)
{
    m_alertmanager = config;
    delete m_alertWatch;
    delete m_silences;
    m_alertWatch = config.url.isEmpty() ? nullptr : new AlertWatch(config, intervalSeconds, this);
    m_silences = config.url.isEmpty() ? nullptr : new MitigationSilences(this, config, this);
    if (m_silences)
        m_silences->resumeFromJournal();
    Q_EMIT alertWatchChanged();
}

void FleetSession::setStatusPage(const StatusPageConfig &config)
{
    m_statusPage = config;
    // One backend for the outbox and the current incident; the old one goes once both have the new one (its answers
    // still on their way are dropped with it).
    StatusBackend *old = m_statusBackend;
    m_statusBackend = StatusBackend::forConfig(config, this, &m_statusProblem);
    if (m_outbox)
        m_outbox->setBackend(m_statusBackend, m_statusProblem);
    Q_EMIT statusPageChanged();
    delete old;
}

namespace {

// A monitoring service's credentials: from the environment (PREFIX_TOKEN, PREFIX_BASIC_AUTH) at once, else the
// keychain's token for that service and origin, asynchronously; `use` gets (bearer, basic). No credentials is an
// answer too (many Prometheus servers have none).
void monitoringCredentials(const QString &service, const QUrl &url, const char *prefix, QObject *context,
    std::function<void(QString, QString)> use)
{
    const QByteArray tokenName = QByteArray(prefix) + QByteArrayLiteral("_TOKEN");
    const QByteArray basicName = QByteArray(prefix) + QByteArrayLiteral("_BASIC_AUTH");
    const QString bearer = qEnvironmentVariable(tokenName.constData());
    const QString basic = qEnvironmentVariable(basicName.constData());
    if (!bearer.isEmpty() || !basic.isEmpty()) {
        use(bearer, basic);
        return;
    }
    tokens::fromKeychain(ProfileSettings::monitoringKeychainAccount(service, url), context,
        [use](Result<QString> r) { use(r ? r.value() : QString(), QString()); });
}

} // namespace

void FleetSession::applyMonitoring(const ProfileSettings &settings, int generation)
{
    if (!m_monitoringLockedBy.isEmpty())
        return;
    if (settings.prometheusUrl.isEmpty()) {
        if (m_prometheusFromSettings)
            setPrometheus(PrometheusConfig {}, m_prometheusScrapeSeconds, m_prometheusQueries);
        m_prometheusFromSettings = false;
    } else {
        m_prometheusFromSettings = true;
        const int scrape = settings.prometheusScrapeSeconds;
        monitoringCredentials(QStringLiteral("prometheus"), settings.prometheusUrl, "PROMETHEUS", this,
            [this, url = settings.prometheusUrl, scrape, generation](const QString &bearer, const QString &basic) {
                if (generation != m_settingsGeneration || !m_monitoringLockedBy.isEmpty())
                    return;
                PrometheusConfig c;
                c.url = url;
                c.bearerToken = bearer;
                c.basicAuth = basic;
                setPrometheus(c, scrape, m_prometheusQueries);
            });
    }
    if (settings.alertmanagerUrl.isEmpty()) {
        if (m_alertmanagerFromSettings)
            setAlertmanager(AlertmanagerConfig {}, 15);
        m_alertmanagerFromSettings = false;
    } else {
        m_alertmanagerFromSettings = true;
        const int poll = settings.alertmanagerPollSeconds;
        monitoringCredentials(QStringLiteral("alertmanager"), settings.alertmanagerUrl, "ALERTMANAGER", this,
            [this, url = settings.alertmanagerUrl, poll, generation](const QString &bearer, const QString &basic) {
                if (generation != m_settingsGeneration || !m_monitoringLockedBy.isEmpty())
                    return;
                AlertmanagerConfig c;
                c.url = url;
                c.bearerToken = bearer;
                c.basicAuth = basic;
                // The same Alertmanager asked again (Settings saved): its watch and silences stay as they are.
                if (m_alertWatch && m_alertmanager.url == c.url && m_alertmanager.bearerToken == c.bearerToken
                    && m_alertmanager.basicAuth == c.basicAuth && m_alertWatch->intervalSeconds() == poll)
                    return;
                setAlertmanager(c, poll);
            });
    }
}

void FleetSession::applySettings(const ProfileSettings &settings)
{
    if (m_replay)
        return; // a replay is judged with the thresholds it was recorded with, and has no page or monitoring
    m_settings = settings;
    const int generation = ++m_settingsGeneration;
    m_monitor->setThresholds(settings.thresholds);
    m_recorder->setLimits(settings.recordRetentionDays, settings.recordCapMegabytes);
    applyMonitoring(settings, generation);
    if (!m_statusPageLockedBy.isEmpty())
        return;
    m_keyProblem.clear();
    StatusPageConfig page;
    page.baseUrl = settings.statusPageUrl;
    page.pageId = settings.pageId.trimmed();
    if (page.pageId.isEmpty()) {
        // No page for this profile: a page the previous profile's settings set goes; one set by the program
        // (setStatusPage before connecting, as a test or an embedding would) stays.
        if (m_statusPageFromSettings)
            setStatusPage(StatusPageConfig {});
        m_statusPageFromSettings = false;
        return;
    }
    m_statusPageFromSettings = true;
    if (const Result<QString> key = tokens::statusPageKey(QString()); key) {
        page.apiKey = key.value();
    } else if (const auto typed = m_typedKeys.constFind(page.pageId); typed != m_typedKeys.cend()) {
        page.apiKey = *typed;
    } else {
        setStatusPage(page); // known, without its key until the keychain answers: the composer says so
        tokens::fromKeychain(
            ProfileSettings::keychainAccount(page.pageId), this, [this, page, generation](Result<QString> r) {
                if (generation != m_settingsGeneration || !m_statusPageLockedBy.isEmpty())
                    return; // settings changed while the keychain answered
                StatusPageConfig found = page;
                if (r)
                    found.apiKey = r.value();
                else
                    m_keyProblem = tr("no API key for page %1: %2 Enter it in Settings (Ctrl+,) or set "
                                      "STATUSPAGE_API_KEY")
                                       .arg(page.pageId, r.error());
                setStatusPage(found);
            });
        return;
    }
    setStatusPage(page);
}

void FleetSession::useStatusPageKey(const QString &pageId, const QString &key)
{
    if (pageId.trimmed().isEmpty())
        return;
    if (key.isEmpty())
        m_typedKeys.remove(pageId.trimmed());
    else
        m_typedKeys.insert(pageId.trimmed(), key);
}

void FleetSession::buildHistory()
{
    if (m_history) {
        disconnect(m_store, nullptr, m_history, nullptr);
        m_history->deleteLater();
        m_history = nullptr;
    }
    if (!m_connection)
        return;
    // The past hours: from the fleet's own Prometheus when one is configured, else (or when it cannot answer) from
    // the Fleet API.
    std::unique_ptr<HistorySource> source = std::make_unique<FleetApiHistory>(m_connection->client());
    if (!m_prometheus.url.isEmpty()) {
        if (!m_prometheusClient)
            m_prometheusClient = new PrometheusClient(m_prometheus, this);
        source = std::make_unique<FallbackHistory>(
            std::make_unique<PrometheusHistory>(m_prometheusClient, m_prometheusQueries, m_prometheusScrapeSeconds),
            std::move(source));
    }
    m_history = new HistoryLoader(m_store, std::move(source), 24, this);
    connect(m_history, &HistoryLoader::noteChanged, this, &FleetSession::historyNoteChanged);
    if (!m_prometheus.url.isEmpty()) {
        // The live edge from Prometheus while the Fleet API's stream is down (issue #23): Prometheus keeps scraping
        // the fleet, so the charts go on, polled at the scrape interval, and the line under them says so. Only for a
        // fleet on the wall clock (a real one): Prometheus stamps samples with its own clock.
        auto *edge = new QTimer(m_history);
        edge->setInterval(m_prometheusScrapeSeconds * 1000);
        // Whether the fleet runs on the wall clock is judged while the stream is live (the store's clock stops when it
        // goes down) and kept.
        auto onWallClock = std::make_shared<std::optional<bool>>();
        connect(edge, &QTimer::timeout, m_history, [this, loader = m_history, onWallClock] {
            const qint64 wall = QDateTime::currentSecsSinceEpoch();
            if (m_store->isLoaded() && (isLive() || !onWallClock->has_value()))
                *onWallClock = std::abs(m_store->fleetNowMs() / 1000 - wall) <= 120;
            if (isLive() || !onWallClock->value_or(false)) {
                loader->endLiveEdge();
                return;
            }
            loader->fillLiveEdge(wall,
                tr("The Fleet API's stream is down: the charts' live edge comes from Prometheus, every %1 s.")
                    .arg(m_prometheusScrapeSeconds));
        });
        edge->start();
    }
}

void FleetSession::dropConnection()
{
    if (m_history) {
        disconnect(m_store, nullptr, m_history, nullptr);
        m_history->deleteLater();
        m_history = nullptr;
    }
    if (m_connection) {
        m_connection->stop();
        m_connection->disconnect(this);
        m_connection->deleteLater();
        m_connection = nullptr;
    }
}

void FleetSession::connectTo(const ConnectionProfile &profile, const QString &token)
{
    const bool otherFleet = m_profile.url != profile.url;
    dropConnection();
    if (otherFleet && m_store->isLoaded())
        m_store->clear(); // another fleet: none of the previous one may show, not even while this one connects
    m_profile = profile;
    m_token = token;
    if (m_identity) {
        m_identity.reset();
        Q_EMIT identityChanged();
    }
    Q_EMIT profileChanged(m_profile);
    reconnect();
}

void FleetSession::connectToProfile(const ConnectionProfile &profile)
{
    tokens::forProfile(profile, this, [this, profile](Result<QString> token) {
        if (token)
            connectTo(profile, token.value());
        else
            Q_EMIT credentialsNeeded(profile, token.error());
    });
}

void FleetSession::reconnect()
{
    if (!hasProfile() || m_replay)
        return;
    dropConnection();
    m_awaitingFirstSnapshot = true;
    ClientConfig config = m_profile.clientConfig(m_token);
    if (m_adjust)
        m_adjust(config);
    auto *connection = new FleetConnection(config, this);
    m_connection = connection;
    m_store->attach(connection);
    buildHistory();
    connect(connection, &FleetConnection::statusChanged, this, &FleetSession::statusChanged);
    connect(connection, &FleetConnection::identityReceived, this, [this](const Identity &who) {
        m_identity = who;
        Q_EMIT identityChanged();
    });
    Q_EMIT connectionChanged(connection);
    connection->start();
}

void FleetSession::shutdown()
{
    dropConnection();
    m_awaitingFirstSnapshot = false;
    ConnectionStatus offline;
    offline.state = ConnectionState::Offline;
    offline.reason = tr("disconnected");
    Q_EMIT statusChanged(offline);
}

Status FleetSession::startReplay(bundle::Bundle bundle, const QString &name)
{
    if (m_connection || m_replay)
        return Status::failure(tr("A replay opens in a window of its own: this one is %1.")
                                   .arg(m_replay ? tr("replaying already") : tr("connected to a fleet")));
    m_monitor->setThresholds(thresholdsOf(bundle.header.thresholds));
    m_profile = ConnectionProfile {};
    m_profile.name = tr("Replay of %1").arg(name);
    m_replay = new IncidentReplay(this, std::move(bundle), name);
    m_replay->seek(m_replay->fromMs());
    Q_EMIT profileChanged(m_profile);
    Q_EMIT replayChanged();
    Q_EMIT statusChanged(status());
    return Status::success();
}

ConnectionStatus FleetSession::status() const
{
    if (m_replay) {
        // The replay is its own live feed: nothing is stale, nothing reconnects.
        ConnectionStatus live;
        live.state = ConnectionState::Live;
        live.lastDataAtMs = live.lastByteAtMs = ConnectionStatus::monotonicNowMs();
        return live;
    }
    if (m_connection)
        return m_connection->status();
    ConnectionStatus offline;
    offline.reason = hasProfile() ? tr("disconnected") : tr("not connected to a fleet");
    return offline;
}

QString FleetSession::whyCannotAct(Role needed) const
{
    if (m_replay)
        return tr("this is a replay of a recorded incident: nothing here reaches a fleet");
    if (!m_connection)
        return tr("not connected to a fleet");
    if (!isLive())
        return tr("the connection is not live");
    if (!m_identity)
        return tr("the server has not said who this token belongs to yet");
    if (int(m_identity->role) < int(needed))
        return tr("needs the %1 role (this token is a %2)")
            .arg(wireName(needed).toString(), wireName(m_identity->role).toString());
    return {};
}

QObject *FleetSession::probe(const ConnectionProfile &profile, const QString &token, QObject *context,
    std::function<void(ApiResult<Identity>)> done)
{
    ClientConfig config = profile.clientConfig(token);
    config.requestTimeoutMs = 8000;
    config.maxAttempts = 1; // report the first failure, do not retry quietly
    auto *client = new FleetClient(config, context);
    client->me(context, [client, done = std::move(done)](ApiResult<Identity> r) {
        client->deleteLater();
        done(std::move(r));
    });
    return client;
}

void FleetSession::resumeActionsWhenReady()
{
    if (m_identity && isLive() && m_local->isOpen())
        m_actions->resumeFromJournal();
    if (m_silences && m_local->isOpen())
        m_silences->resumeFromJournal(); // Alertmanager's, not the fleet's: no need to wait for the connection
}

Status FleetSession::openLocalStore(const QString &path)
{
    delete m_outbox;
    m_outbox = nullptr;
    Status opened = m_local->open(path);
    m_localError = opened ? QString() : opened.error();
    if (opened) {
        // Queued status updates from an earlier run go out as soon as a status page is configured.
        m_outbox = new StatusOutbox(m_local, this);
        if (!m_statusPage.pageId.isEmpty())
            m_outbox->setBackend(m_statusBackend, m_statusProblem);
    }
    Q_EMIT localStoreChanged();
    resumeActionsWhenReady();
    return opened;
}

} // namespace fleet
