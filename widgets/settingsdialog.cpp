#include "settingsdialog.h"

#include "fleetsession.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

namespace fleet {

namespace {

QDoubleSpinBox *percentBox(QWidget *parent)
{
    auto *box = new QDoubleSpinBox(parent);
    box->setRange(0.1, 100);
    box->setDecimals(1);
    box->setSingleStep(1);
    box->setSuffix(QStringLiteral(" %"));
    return box;
}

QSpinBox *countBox(int low, int high, const QString &suffix, QWidget *parent)
{
    auto *box = new QSpinBox(parent);
    box->setRange(low, high);
    box->setSuffix(suffix);
    box->setGroupSeparatorShown(true);
    return box;
}

QLabel *note(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    return label;
}

} // namespace

SettingsDialog::SettingsDialog(FleetSession *session, const ProfileSettings &current, QWidget *parent)
    : QDialog(parent)
    , m_session(session)
    , m_pageUrl(new QLineEdit(this))
    , m_pageId(new QLineEdit(this))
    , m_key(new QLineEdit(this))
    , m_keyState(new QLabel(this))
    , m_prometheusUrl(new QLineEdit(this))
    , m_scrape(countBox(1, 3600, tr(" s"), this))
    , m_alertmanagerUrl(new QLineEdit(this))
    , m_poll(countBox(1, 3600, tr(" s"), this))
    , m_recordDays(countBox(1, 3650, tr(" days"), this))
    , m_recordCap(countBox(10, 100000, tr(" MB"), this))
    , m_notifyTrouble(new QCheckBox(tr("A region becomes &degraded or down"), this))
    , m_notifyRecovered(new QCheckBox(tr("A region &recovers"), this))
    , m_notifyOperations(new QCheckBox(tr("An &action of this console finishes or fails"), this))
    , m_degradedLoss(percentBox(this))
    , m_downLoss(percentBox(this))
    , m_degradedFailures(percentBox(this))
    , m_downFailures(percentBox(this))
    , m_degradedRtt(countBox(1, 60000, tr(" ms"), this))
    , m_minBuilds(countBox(1, 10000, QString(), this))
    , m_window(countBox(10, 3600, tr(" s"), this))
    , m_hold(countBox(0, 3600, tr(" s"), this))
    , m_problem(note(QString(), this))
    , m_buttons(new QDialogButtonBox(
          QDialogButtonBox::Save | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this))
{
    // Names for tests and for anyone scripting the dialog (accessibility tools read the labels).
    m_pageUrl->setObjectName(QStringLiteral("pageUrl"));
    m_pageId->setObjectName(QStringLiteral("pageId"));
    m_key->setObjectName(QStringLiteral("apiKey"));
    m_prometheusUrl->setObjectName(QStringLiteral("prometheusUrl"));
    m_scrape->setObjectName(QStringLiteral("prometheusScrape"));
    m_alertmanagerUrl->setObjectName(QStringLiteral("alertmanagerUrl"));
    m_poll->setObjectName(QStringLiteral("alertmanagerPoll"));
    m_notifyTrouble->setObjectName(QStringLiteral("notifyTrouble"));
    m_notifyRecovered->setObjectName(QStringLiteral("notifyRecovered"));
    m_notifyOperations->setObjectName(QStringLiteral("notifyOperations"));
    m_degradedLoss->setObjectName(QStringLiteral("degradedLoss"));
    m_downLoss->setObjectName(QStringLiteral("downLoss"));
    m_degradedFailures->setObjectName(QStringLiteral("degradedFailures"));
    m_downFailures->setObjectName(QStringLiteral("downFailures"));
    m_degradedRtt->setObjectName(QStringLiteral("degradedRtt"));
    m_minBuilds->setObjectName(QStringLiteral("minBuilds"));
    m_window->setObjectName(QStringLiteral("window"));
    m_hold->setObjectName(QStringLiteral("hold"));
    m_problem->setObjectName(QStringLiteral("problem"));
    m_keyState->setObjectName(QStringLiteral("keyState"));
    const ConnectionProfile &profile = session->profile();
    setWindowTitle(tr("Settings: %1").arg(profile.name));
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(note(tr("Settings of the connection profile \"%1\" (%2), kept with the profile. The command "
                              "line overrides what it names.")
                               .arg(profile.name, profile.url.toDisplayString()),
        this));

    // Wrapped notes sit in a box layout under each form: a form layout clips a wrapped label's second line.
    auto *page = new QGroupBox(tr("Status page"), this);
    auto *pageBox = new QVBoxLayout(page);
    auto *pageForm = new QFormLayout;
    pageBox->addLayout(pageForm);
    m_pageUrl->setPlaceholderText(QStringLiteral("https://api.statuspage.io/v1"));
    m_pageId->setPlaceholderText(tr("empty: no status page for this profile"));
    m_keyState->setTextFormat(Qt::PlainText); // it repeats the page id as typed: text, never markup
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setPlaceholderText(tr("leave empty to keep the key in use"));
    pageForm->addRow(tr("API &URL:"), m_pageUrl);
    pageForm->addRow(tr("&Page id:"), m_pageId);
    pageForm->addRow(tr("API &key:"), m_key);
    pageBox->addWidget(m_keyState);
    if (const QString by = session->statusPageLockedBy(); !by.isEmpty())
        pageBox->addWidget(
            note(tr("This run's status page was chosen by %1: what you save here applies when the console starts "
                    "without it.")
                     .arg(by),
                page));
    layout->addWidget(page);

    // The fleet's own monitoring (issue #23): where it is; its tokens are the environment's or the keychain's.
    auto *monitoring = new QGroupBox(tr("The fleet's monitoring"), this);
    auto *monitoringBox = new QVBoxLayout(monitoring);
    auto *monitoringForm = new QFormLayout;
    monitoringBox->addLayout(monitoringForm);
    auto serviceRow
        = [this, monitoringForm](const QString &label, QLineEdit *url, const QString &every, QSpinBox *box) {
              auto *row = new QHBoxLayout;
              row->addWidget(url, 1);
              row->addWidget(new QLabel(every, this));
              row->addWidget(box);
              auto *name = new QLabel(label, this);
              name->setBuddy(url);
              monitoringForm->addRow(name, row);
              box->setAccessibleName(label + u' ' + every);
          };
    m_prometheusUrl->setPlaceholderText(tr("empty: history from the Fleet API (e.g. http://prometheus:9090)"));
    m_alertmanagerUrl->setPlaceholderText(tr("empty: no alerts (e.g. http://alertmanager:9093)"));
    serviceRow(tr("Pro&metheus:"), m_prometheusUrl, tr("scraped every"), m_scrape);
    serviceRow(tr("A&lertmanager:"), m_alertmanagerUrl, tr("polled every"), m_poll);
    monitoringBox->addWidget(
        note(tr("Tokens: PROMETHEUS_TOKEN, ALERTMANAGER_TOKEN (or *_BASIC_AUTH), else the keychain "
                "(--save-monitoring-token); each goes to its own server only."),
            monitoring));
    if (const QString by = session->monitoringLockedBy(); !by.isEmpty())
        monitoringBox->addWidget(
            note(tr("This run's monitoring was chosen by %1: what you save here applies when the console starts "
                    "without it.")
                     .arg(by),
                monitoring));
    layout->addWidget(monitoring);

    auto *notify = new QGroupBox(tr("Desktop notifications when"), this);
    auto *notifyLayout = new QVBoxLayout(notify);
    for (QCheckBox *box : { m_notifyTrouble, m_notifyRecovered, m_notifyOperations })
        notifyLayout->addWidget(box);
    // The incident record (issue #24) beside them: the dialog stays as tall as it was (it must fit 1366x768).
    auto *record = new QGroupBox(tr("Incident record (this fleet, local store)"), this);
    auto *recordGrid = new QGridLayout(record);
    auto *keptLabel = new QLabel(tr("Kept f&or:"), record);
    keptLabel->setBuddy(m_recordDays);
    auto *sizeLabel = new QLabel(tr("Si&ze at most:"), record);
    sizeLabel->setBuddy(m_recordCap);
    recordGrid->addWidget(keptLabel, 0, 0);
    recordGrid->addWidget(m_recordDays, 0, 1);
    recordGrid->addWidget(sizeLabel, 1, 0);
    recordGrid->addWidget(m_recordCap, 1, 1);
    recordGrid->setRowStretch(2, 1);
    record->setToolTip(tr("What an incident is made of, kept in the local store for a restarted console and for "
                          "fleetctl incident export; past the size the oldest go first."));
    m_recordDays->setAccessibleName(tr("Keep the incident record for"));
    m_recordCap->setAccessibleName(tr("The incident record's size at most"));
    auto *side = new QHBoxLayout;
    side->addWidget(notify, 1);
    side->addWidget(record, 1);
    layout->addLayout(side);

    auto *verdicts = new QGroupBox(tr("Verdict thresholds"), this);
    auto *verdictsBox = new QVBoxLayout(verdicts);
    auto *form = new QFormLayout;
    verdictsBox->addLayout(form);
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    // A pair of boxes on one row: the row's label is the first box's buddy, so its mnemonic reaches it.
    auto pair = [this, form](const QString &label, QWidget *degraded, QWidget *down) {
        auto *row = new QHBoxLayout;
        row->addWidget(degraded);
        row->addWidget(new QLabel(tr("down at"), this));
        row->addWidget(down);
        row->addStretch(1);
        auto *name = new QLabel(label, this);
        name->setBuddy(degraded);
        form->addRow(name, row);
    };
    pair(tr("Packet loss, de&graded at:"), m_degradedLoss, m_downLoss);
    pair(tr("&Infrastructure failures, degraded at:"), m_degradedFailures, m_downFailures);
    form->addRow(tr("RTT p95, degraded a&t:"), m_degradedRtt);
    form->addRow(tr("&Fewest finished builds judged:"), m_minBuilds);
    form->addRow(tr("Verdict wi&ndow:"), m_window);
    form->addRow(tr("&Hold a change for:"), m_hold);
    verdictsBox->addWidget(
        note(tr("Infrastructure failures are ETIMEDOUT, ECONNRESET and EHOSTUNREACH per finished build, judged by "
                "the ratio's 95 % lower bound: a customer's own build errors never count, and a few builds prove "
                "nothing."),
            verdicts));
    // The "down at" labels name the second box of each pair for screen readers.
    m_downLoss->setAccessibleName(tr("Packet loss, down at"));
    m_downFailures->setAccessibleName(tr("Infrastructure failures, down at"));
    layout->addWidget(verdicts);

    layout->addWidget(m_problem);
    m_buttons->button(QDialogButtonBox::Save)->setText(tr("&Save"));
    m_buttons->button(QDialogButtonBox::Cancel)->setText(tr("&Cancel"));
    m_buttons->button(QDialogButtonBox::RestoreDefaults)->setText(tr("Restore d&efaults"));
    m_buttons->button(QDialogButtonBox::RestoreDefaults)
        ->setToolTip(tr("The defaults for every field; the page and its key stay"));
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, [this] {
        if (problem().isEmpty())
            accept();
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this, [this] {
        ProfileSettings defaults;
        defaults.statusPageUrl = chosen().statusPageUrl;
        defaults.pageId = chosen().pageId;
        defaults.prometheusUrl = chosen().prometheusUrl;
        defaults.alertmanagerUrl = chosen().alertmanagerUrl;
        setChosen(defaults);
    });

    setChosen(current);
    for (QLineEdit *edit : { m_pageUrl, m_pageId, m_key, m_prometheusUrl, m_alertmanagerUrl })
        connect(edit, &QLineEdit::textChanged, this, &SettingsDialog::updateState);
    for (QDoubleSpinBox *box : { m_degradedLoss, m_downLoss, m_degradedFailures, m_downFailures })
        connect(box, &QDoubleSpinBox::valueChanged, this, &SettingsDialog::updateState);
    for (QSpinBox *box : { m_degradedRtt, m_minBuilds, m_window, m_hold, m_scrape, m_poll, m_recordDays, m_recordCap })
        connect(box, &QSpinBox::valueChanged, this, &SettingsDialog::updateState);
    connect(session, &FleetSession::statusPageChanged, this, &SettingsDialog::updateState);
    updateState();
    // Sized to what it holds, in characters (so at 4K as at 1366x768): wide enough for a page URL, and as tall as
    // its notes need at that width (fitToContent, again whenever a note changes).
    setMinimumWidth(fontMetrics().averageCharWidth() * 96);
    fitToContent();
}

void SettingsDialog::fitToContent()
{
    // Every group box forgets its cached size now (Qt would post that for later): a label's new text is measured
    // before the dialog is sized.
    for (QWidget *w : findChildren<QWidget *>()) {
        if (w->layout()) {
            w->layout()->invalidate();
            w->updateGeometry();
        }
    }
    layout()->invalidate();
    layout()->activate();
    const int w = std::max(width(), minimumWidth());
    const int h = layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(w) : sizeHint().height();
    resize(w, h);
}

void SettingsDialog::setChosen(const ProfileSettings &s)
{
    m_pageUrl->setText(s.statusPageUrl.toString());
    m_pageId->setText(s.pageId);
    m_prometheusUrl->setText(s.prometheusUrl.toString());
    m_scrape->setValue(s.prometheusScrapeSeconds);
    m_alertmanagerUrl->setText(s.alertmanagerUrl.toString());
    m_poll->setValue(s.alertmanagerPollSeconds);
    m_recordDays->setValue(s.recordRetentionDays);
    m_recordCap->setValue(s.recordCapMegabytes);
    m_notifyTrouble->setChecked(s.notifyTrouble);
    m_notifyRecovered->setChecked(s.notifyRecovered);
    m_notifyOperations->setChecked(s.notifyOperations);
    const VerdictThresholds &t = s.thresholds;
    m_degradedLoss->setValue(t.degradedPacketLoss * 100);
    m_downLoss->setValue(t.downPacketLoss * 100);
    m_degradedFailures->setValue(t.degradedFailureRatio * 100);
    m_downFailures->setValue(t.downFailureRatio * 100);
    m_degradedRtt->setValue(int(t.degradedRttP95Ms));
    m_minBuilds->setValue(t.minFinishedBuilds);
    m_window->setValue(t.windowSeconds);
    m_hold->setValue(t.holdSeconds);
}

ProfileSettings SettingsDialog::chosen() const
{
    ProfileSettings s;
    s.statusPageUrl = QUrl(m_pageUrl->text().trimmed(), QUrl::StrictMode);
    s.pageId = m_pageId->text().trimmed();
    s.prometheusUrl = QUrl(m_prometheusUrl->text().trimmed(), QUrl::StrictMode);
    s.prometheusScrapeSeconds = m_scrape->value();
    s.alertmanagerUrl = QUrl(m_alertmanagerUrl->text().trimmed(), QUrl::StrictMode);
    s.alertmanagerPollSeconds = m_poll->value();
    s.recordRetentionDays = m_recordDays->value();
    s.recordCapMegabytes = m_recordCap->value();
    s.notifyTrouble = m_notifyTrouble->isChecked();
    s.notifyRecovered = m_notifyRecovered->isChecked();
    s.notifyOperations = m_notifyOperations->isChecked();
    VerdictThresholds &t = s.thresholds;
    t.degradedPacketLoss = m_degradedLoss->value() / 100;
    t.downPacketLoss = m_downLoss->value() / 100;
    t.degradedFailureRatio = m_degradedFailures->value() / 100;
    t.downFailureRatio = m_downFailures->value() / 100;
    t.degradedRttP95Ms = m_degradedRtt->value();
    t.minFinishedBuilds = m_minBuilds->value();
    t.windowSeconds = m_window->value();
    t.holdSeconds = m_hold->value();
    return s;
}

QString SettingsDialog::typedKey() const
{
    return m_key->text().trimmed();
}

QString SettingsDialog::problem() const
{
    return chosen().problem();
}

void SettingsDialog::updateState()
{
    const QString before = m_keyState->text() + m_problem->text();
    const QString why = problem();
    m_problem->setText(why.isEmpty() ? QString() : tr("Cannot save: %1.").arg(why));
    m_problem->setVisible(!why.isEmpty());
    m_buttons->button(QDialogButtonBox::Save)->setEnabled(why.isEmpty());
    m_buttons->button(QDialogButtonBox::Save)->setToolTip(why);

    const QString pageId = m_pageId->text().trimmed();
    const StatusPageConfig &inUse = m_session->statusPage();
    // Short lines without wrapping (a wrapped label in a group box is given one line too few); the keychain's own
    // words, which can be long, go to the tooltip.
    m_keyState->setToolTip(QString());
    if (pageId.isEmpty()) {
        m_keyState->setText(tr("No status page: status updates are off for this profile."));
    } else if (!typedKey().isEmpty()) {
        m_keyState->setText(tr("Saving puts this key in the desktop keychain (%1),\nnever in the settings file.")
                                .arg(ProfileSettings::keychainAccount(pageId)));
    } else if (inUse.pageId == pageId && !inUse.apiKey.isEmpty()) {
        m_keyState->setText(tr("A key for page %1 is in use. Type a new one to replace it.").arg(pageId));
    } else {
        m_keyState->setText(tr("No key for page %1 yet: type it here (kept in the desktop keychain),\nor set "
                               "STATUSPAGE_API_KEY.")
                                .arg(pageId));
        m_keyState->setToolTip(m_session->statusPageKeyProblem());
    }
    if (m_keyState->text() + m_problem->text() != before)
        fitToContent(); // a longer note gets its lines, never a clipped one
}

} // namespace fleet
