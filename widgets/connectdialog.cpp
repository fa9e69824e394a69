#include "connectdialog.h"

#include "fleetsession.h"
#include "theme.h"
#include "tokensource.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>

namespace fleet {

namespace {
enum TokenChoice { FromFile, FromKeychain, FromEnvironment, Pasted };
}

ConnectDialog::ConnectDialog(ProfileStore *profiles, QWidget *parent)
    : QDialog(parent)
    , m_profiles(profiles)
    , m_saved(new QComboBox(this))
    , m_name(new QLineEdit(this))
    , m_url(new QLineEdit(this))
    , m_tokenFrom(new QComboBox(this))
    , m_tokenFile(new QLineEdit(this))
    , m_token(new QLineEdit(this))
    , m_caFile(new QLineEdit(this))
    , m_production(new QCheckBox(tr("Production: mark this connection unmistakably"), this))
    , m_insecure(new QCheckBox(tr("Skip TLS certificate checks (development only, shown as INSECURE)"), this))
    , m_urlHint(new QLabel(this))
    , m_result(new QLabel(this))
{
    setWindowTitle(tr("Connect to a fleet"));
    m_saved->setAccessibleName(tr("Saved profiles"));
    m_name->setAccessibleName(tr("Profile name"));
    m_url->setAccessibleName(tr("Fleet API URL"));
    m_url->setPlaceholderText(QStringLiteral("https://fleet.example.com"));
    m_tokenFrom->setAccessibleName(tr("Where the token comes from"));
    m_tokenFrom->addItem(tr("Token file (readable only by you)"), FromFile);
    m_tokenFrom->addItem(tr("Desktop keychain"), FromKeychain);
    m_tokenFrom->addItem(tr("FLEET_TOKEN environment variable"), FromEnvironment);
    m_tokenFrom->addItem(tr("Paste a token (this session only)"), Pasted);
    m_tokenFile->setAccessibleName(tr("Token file"));
    m_token->setAccessibleName(tr("Token"));
    m_token->setEchoMode(QLineEdit::Password);
    m_token->setPlaceholderText(tr("token (not saved to disk)"));
    m_caFile->setAccessibleName(tr("Extra CA certificate file"));
    m_caFile->setPlaceholderText(tr("optional: PEM file of a private CA"));
    for (QLabel *l : { m_urlHint, m_result }) {
        l->setTextFormat(Qt::PlainText); // errors quote server text and URLs: never markup
        l->setWordWrap(true);
    }
    m_result->setAccessibleName(tr("Connection test result"));
    m_result->setMinimumHeight(m_result->fontMetrics().height() * 3);

    auto browse = [this](QLineEdit *target, const QString &title) {
        auto *b = new QToolButton(this);
        b->setText(tr("Browse…"));
        b->setAccessibleName(title);
        connect(b, &QToolButton::clicked, this, [this, target, title] {
            const QString f = QFileDialog::getOpenFileName(this, title, target->text());
            if (!f.isEmpty())
                target->setText(f);
        });
        auto *row = new QHBoxLayout;
        row->addWidget(target, 1);
        row->addWidget(b);
        return row;
    };

    auto *form = new QFormLayout;
    form->addRow(tr("Saved profiles"), m_saved);
    form->addRow(tr("Profile name"), m_name);
    form->addRow(tr("Fleet API URL"), m_url);
    form->addRow(QString(), m_urlHint);
    form->addRow(tr("Token from"), m_tokenFrom);
    form->addRow(tr("Token file"), browse(m_tokenFile, tr("Choose the token file")));
    form->addRow(tr("Token"), m_token);
    form->addRow(tr("CA file"), browse(m_caFile, tr("Choose a CA certificate file")));
    form->addRow(QString(), m_production);
    form->addRow(QString(), m_insecure);

    auto *buttons = new QDialogButtonBox(this);
    m_test = buttons->addButton(tr("Test"), QDialogButtonBox::ActionRole);
    m_connect = buttons->addButton(tr("Connect"), QDialogButtonBox::AcceptRole);
    m_connect->setDefault(true);
    buttons->addButton(QDialogButtonBox::Cancel);
    connect(m_test, &QPushButton::clicked, this, &ConnectDialog::testConnection);
    connect(m_connect, &QPushButton::clicked, this, &ConnectDialog::connectAndAccept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_result);
    layout->addWidget(buttons);

    m_saved->addItem(tr("New profile…"), QString());
    for (const ConnectionProfile &p : profiles->profiles())
        m_saved->addItem(p.production ? tr("%1 (PRODUCTION)").arg(p.name) : p.name, p.name);
    connect(m_saved, &QComboBox::currentIndexChanged, this, &ConnectDialog::loadSelected);
    const int last = m_saved->findData(profiles->lastUsed());
    if (last > 0)
        m_saved->setCurrentIndex(last);
    connect(m_url, &QLineEdit::textChanged, this, &ConnectDialog::validate);
    connect(m_tokenFrom, &QComboBox::currentIndexChanged, this, &ConnectDialog::validate);
    connect(m_name, &QLineEdit::textEdited, this, [this](const QString &name) {
        if (name.startsWith(QLatin1String("prod"), Qt::CaseInsensitive))
            m_production->setChecked(true); // a sensible default the user can undo
    });
    validate();
    resize(560, sizeHint().height());
}

void ConnectDialog::loadSelected()
{
    if (auto p = m_profiles->profile(m_saved->currentData().toString()))
        setProfile(*p);
}

void ConnectDialog::setProfile(const ConnectionProfile &p)
{
    m_name->setText(p.name);
    m_url->setText(p.url.toString());
    m_tokenFrom->setCurrentIndex(
        m_tokenFrom->findData(p.tokenFrom == ConnectionProfile::TokenFrom::Keychain ? FromKeychain
                : p.tokenFrom == ConnectionProfile::TokenFrom::Environment          ? FromEnvironment
                                                                                    : FromFile));
    m_tokenFile->setText(p.tokenFile);
    m_caFile->setText(p.caFile);
    m_production->setChecked(p.production);
    m_insecure->setChecked(p.insecure);
    validate();
}

void ConnectDialog::setToken(const QString &token)
{
    m_token->setText(token);
    m_tokenFrom->setCurrentIndex(m_tokenFrom->findData(Pasted));
}

ConnectionProfile ConnectDialog::profile() const
{
    ConnectionProfile p;
    p.name = m_name->text().trimmed().isEmpty() ? m_url->text().trimmed() : m_name->text().trimmed();
    if (const Result<QUrl> url = ProfileStore::validateUrl(m_url->text()))
        p.url = url.value();
    const int from = m_tokenFrom->currentData().toInt();
    p.tokenFrom = from == FromKeychain ? ConnectionProfile::TokenFrom::Keychain
        : from == FromEnvironment      ? ConnectionProfile::TokenFrom::Environment
                                       : ConnectionProfile::TokenFrom::File;
    p.tokenFile = m_tokenFile->text().trimmed();
    p.caFile = m_caFile->text().trimmed();
    p.production = m_production->isChecked();
    p.insecure = m_insecure->isChecked();
    return p;
}

QString ConnectDialog::resultText() const
{
    return m_result->text();
}

void ConnectDialog::validate()
{
    const Result<QUrl> checked = ProfileStore::validateUrl(m_url->text());
    m_urlHint->setText(m_url->text().isEmpty() || checked ? QString() : checked.error());
    m_urlHint->setVisible(!m_urlHint->text().isEmpty());
    const int from = m_tokenFrom->currentData().toInt();
    m_tokenFile->setEnabled(from == FromFile);
    m_token->setEnabled(from == Pasted || from == FromKeychain);
    m_token->setPlaceholderText(from == FromKeychain ? tr("leave empty to use the token already in the keychain")
                                                     : tr("token (not saved to disk)"));
    const bool ok = checked.ok() && !isBusy();
    m_test->setEnabled(ok);
    m_connect->setEnabled(ok);
}

void ConnectDialog::showResult(bool ok, const QString &text)
{
    const Theme &t = Theme::current();
    m_result->setStyleSheet(QStringLiteral("color: %1").arg((ok ? t.healthy : t.down).name()));
    m_result->setText(text);
}

void ConnectDialog::resolveToken(std::function<void(bool, const QString &)> done)
{
    const auto answer = [done](const Result<QString> &r) { r ? done(true, r.value()) : done(false, r.error()); };
    switch (m_tokenFrom->currentData().toInt()) {
    case FromFile:
        if (m_tokenFile->text().trimmed().isEmpty())
            return done(false, tr("Choose the token file, or pick another place for the token to come from."));
        break;
    case Pasted:
        if (m_token->text().trimmed().isEmpty())
            return done(false, tr("Paste the token, or pick another place for the token to come from."));
        return done(true, m_token->text().trimmed());
    case FromKeychain:
        if (!m_token->text().trimmed().isEmpty())
            return done(true, m_token->text().trimmed()); // stored in the keychain once it has worked
        break;
    default:
        break;
    }
    tokens::forProfile(profile(), this, answer); // the one resolver (FleetSession::connectToProfile uses it too)
}

void ConnectDialog::testConnection()
{
    const Result<QUrl> checked = ProfileStore::validateUrl(m_url->text());
    if (!checked) {
        showResult(false, checked.error());
        Q_EMIT tested(false, checked.error());
        return;
    }
    const QUrl url = checked.value();
    showResult(true, tr("Connecting to %1…").arg(url.toDisplayString()));
    m_test->setEnabled(false);
    m_connect->setEnabled(false);
    resolveToken([this, url](bool ok, const QString &tokenOrError) {
        if (!ok) {
            showResult(false, tokenOrError);
            validate();
            Q_EMIT tested(false, tokenOrError);
            return;
        }
        m_pending = FleetSession::probe(
            profile(), tokenOrError, this, [this, url, token = tokenOrError](ApiResult<Identity> r) {
                m_pending.clear();
                validate();
                if (!r.ok()) {
                    const QString why = explain(r.error(), url);
                    showResult(false, why);
                    Q_EMIT tested(false, why);
                    return;
                }
                m_resolvedToken = token;
                const QString text = tr("Connected to %1 as %2 (%3).")
                                         .arg(url.toDisplayString(), r->name, wireName(r->role).toString());
                showResult(true, text);
                Q_EMIT tested(true, text);
            });
        validate();
    });
}

void ConnectDialog::connectAndAccept()
{
    auto once = std::make_shared<QMetaObject::Connection>();
    *once = connect(this, &ConnectDialog::tested, this, [this, once](bool ok) {
        disconnect(*once);
        if (!ok)
            return;
        const ConnectionProfile p = profile();
        m_profiles->save(p);
        m_profiles->setLastUsed(p.name);
        if (p.tokenFrom == ConnectionProfile::TokenFrom::Keychain && !m_token->text().isEmpty())
            tokens::storeInKeychain(p.name, m_resolvedToken, this, [](Result<bool>) {});
        accept();
    });
    testConnection();
}

QString ConnectDialog::explain(const ApiError &error, const QUrl &url)
{
    const QString host = url.port() > 0 ? QStringLiteral("%1:%2").arg(url.host()).arg(url.port()) : url.host();
    switch (error.kind) {
    case ApiError::Kind::Network:
        if (error.message.contains(QLatin1String("refused")))
            return tr("Nothing is listening at %1 (connection refused). Is the server running, and is the port "
                      "right?")
                .arg(host);
        if (error.message.contains(QLatin1String("host not found")))
            return tr("The host name \"%1\" could not be found (DNS). Check the spelling of the URL and your "
                      "network or VPN.")
                .arg(url.host());
        return tr("Could not reach %1: %2. Check the network, VPN and URL.").arg(host, error.message);
    case ApiError::Kind::Timeout:
        return tr("%1 did not answer in time. The server may be overloaded, or the network between you is "
                  "losing packets.")
            .arg(host);
    case ApiError::Kind::Tls:
        return tr("The TLS connection to %1 failed: %2. If the server uses a private CA, choose its CA file; "
                  "for a development server only, skip the certificate checks.")
            .arg(host, error.message);
    case ApiError::Kind::Unauthorized:
        return tr("The server did not accept the token (401). Check it for a typo, or ask for a new one if it "
                  "expired or was revoked.");
    case ApiError::Kind::Forbidden:
        return tr("The token is valid but may not read this fleet (403). Ask for a token with at least the "
                  "viewer role.");
    case ApiError::Kind::Decode:
        return tr("%1 answered, but not like a Fleet API v1 server (%2). Check that the URL points at the fleet "
                  "API, not a web page or proxy.")
            .arg(host, error.message);
    case ApiError::Kind::TooLarge:
    case ApiError::Kind::Http:
    case ApiError::Kind::Cancelled:
    case ApiError::Kind::Invalid:
    case ApiError::Kind::None:
        break;
    }
    return tr("The server at %1 answered with an error: %2").arg(host, error.message);
}

} // namespace fleet
