#include "actiondialog.h"

#include "actioncontroller.h"
#include "alertwatch.h"
#include "fleetsession.h"
#include "fleetstore.h"
#include "mitigationsilences.h"
#include "recommendation.h"
#include "theme.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSet>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <memory>

namespace fleet {

namespace {

enum ProvisionColumn { RegionColumn, ArchColumn, CountColumn, ColumnCount };

QLabel *plainLabel(QWidget *parent)
{
    auto *l = new QLabel(parent);
    l->setTextFormat(Qt::PlainText); // server text (notes, names, reasons) is never rendered as markup
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}

QString title(FleetAction::Kind kind, const QString &target)
{
    switch (kind) {
    case FleetAction::Kind::Provision:
        return QObject::tr("Provision replacement workers");
    case FleetAction::Kind::DrainRegion:
        return QObject::tr("Drain region %1").arg(target);
    case FleetAction::Kind::ResumeRegion:
        return QObject::tr("Resume region %1").arg(target);
    case FleetAction::Kind::DrainWorker:
        return QObject::tr("Drain worker %1").arg(target);
    case FleetAction::Kind::Cancel:
        return QObject::tr("Cancel operation %1").arg(target);
    }
    return {};
}

} // namespace

int ActionDialog::largeProvision(const FleetSession *session)
{
    int live = 0;
    for (const Region &r : session->store()->regions()) {
        for (int s = 0; s < kWorkerStateCount; ++s)
            live += WorkerState(s) == WorkerState::Terminated ? 0 : r.workersByState[s];
    }
    return std::max(20, live / 4);
}

ActionDialog::ActionDialog(
    FleetSession *session, const QList<FleetAction> &proposed, const QString &context, QWidget *parent)
    : QDialog(parent)
    , m_session(session)
    , m_kind(proposed.isEmpty() ? FleetAction::Kind::Provision : proposed.front().kind)
    , m_proposed(proposed)
    , m_debounce(new QTimer(this))
{
    setObjectName(QStringLiteral("ActionDialog"));
    setWindowTitle(title(m_kind, proposed.isEmpty() ? QString() : proposed.front().target));
    auto *layout = new QVBoxLayout(this);

    m_context = plainLabel(this);
    m_context->setObjectName(QStringLiteral("context"));
    m_context->setText(context);
    m_context->setVisible(!context.isEmpty());
    layout->addWidget(m_context);

    if (m_kind == FleetAction::Kind::Provision) {
        buildProvisionTable();
        layout->addWidget(m_table, 2);
        auto *add = new QPushButton(tr("Add a region"), this);
        add->setAutoDefault(false);
        connect(add, &QPushButton::clicked, this, [this] {
            const auto &regions = m_session->store()->regions();
            addProvisionRow(regions.empty() ? QString() : regions.front().id, Arch::Amd64, 1);
            schedulePreview();
        });
        layout->addWidget(add, 0, Qt::AlignLeft);
    }

    auto *form = new QFormLayout;
    m_reason = new QLineEdit(this);
    m_reason->setObjectName(QStringLiteral("reason"));
    m_reason->setPlaceholderText(tr("Why, in words: shown to everyone and kept in the audit log (required)"));
    m_reason->setMaxLength(1000);
    m_reason->setText(proposed.isEmpty() ? QString() : proposed.front().reason);
    form->addRow(tr("&Reason:"), m_reason);
    if (m_kind == FleetAction::Kind::Provision || m_kind == FleetAction::Kind::DrainRegion) {
        m_expiry = new QComboBox(this);
        m_expiry->setObjectName(QStringLiteral("expiry"));
        m_expiry->addItem(tr("Never (until someone acts)"), 0);
        for (int hours : { 1, 2, 4, 8, 24 })
            m_expiry->addItem(hours == 1 ? tr("After 1 hour") : tr("After %1 hours").arg(hours), hours * 3600 * 1000);
        m_expiry->setToolTip(m_kind == FleetAction::Kind::Provision
                ? tr("Time-box the capacity: the workers retire then (the console reminds you before)")
                : tr("Resume the region by itself then"));
        form->addRow(m_kind == FleetAction::Kind::Provision ? tr("Retire &after:") : tr("Resume &after:"), m_expiry);
        connect(m_expiry, &QComboBox::currentIndexChanged, this, &ActionDialog::schedulePreview);
    }
    layout->addLayout(form);

    // The offer of a silence (issue #23): the region's alerts keep paging during a drain made on purpose.
    if (m_session->silences() && MitigationSilences::canCarrySilence(m_kind)) {
        m_silence = new QCheckBox(this);
        m_silence->setObjectName(QStringLiteral("silence"));
        m_silence->setChecked(m_kind == FleetAction::Kind::DrainRegion);
        m_silenceText = plainLabel(this);
        m_silenceText->setObjectName(QStringLiteral("silencePreview"));
        m_silenceText->setIndent(24);
        layout->addWidget(m_silence);
        layout->addWidget(m_silenceText);
        connect(m_silence, &QCheckBox::toggled, this, &ActionDialog::updateSilenceOffer);
        if (AlertWatch *watch = m_session->alertWatch())
            connect(watch, &AlertWatch::changed, this, &ActionDialog::updateSilenceOffer);
        updateSilenceOffer();
    }

    auto *previewTitle = new QLabel(tr("What will happen (the server's dry run):"), this);
    layout->addWidget(previewTitle);
    m_preview = new QPlainTextEdit(this); // plain text: the server's notes are never rendered
    m_preview->setObjectName(QStringLiteral("preview"));
    m_preview->setReadOnly(true);
    m_preview->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_preview->setPlainText(tr("Asking the server…"));
    m_preview->setMinimumHeight(fontMetrics().lineSpacing() * 5);
    layout->addWidget(m_preview, 1);
    m_warning = plainLabel(this);
    m_warning->setObjectName(QStringLiteral("warning"));
    m_warning->setStyleSheet(
        QStringLiteral("QLabel { border: 2px solid %1; padding: 6px; }").arg(Theme::current().degraded.name()));
    m_warning->hide();
    layout->addWidget(m_warning);

    m_confirmLabel = plainLabel(this);
    m_confirm = new QLineEdit(this);
    m_confirm->setObjectName(QStringLiteral("typedConfirmation"));
    layout->addWidget(m_confirmLabel);
    layout->addWidget(m_confirm);

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_ok = m_buttons->button(QDialogButtonBox::Ok);
    m_ok->setObjectName(QStringLiteral("confirm"));
    m_ok->setDefault(true);
    m_ok->setEnabled(false);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &ActionDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &ActionDialog::reject);

    connect(m_reason, &QLineEdit::textChanged, this, &ActionDialog::updateConfirm);
    connect(m_confirm, &QLineEdit::textChanged, this, &ActionDialog::updateConfirm);
    m_debounce->setSingleShot(true);
    m_debounce->setInterval(300);
    connect(m_debounce, &QTimer::timeout, this, &ActionDialog::runPreview);
    resize(760, m_kind == FleetAction::Kind::Provision ? 620 : 420);
    runPreview();
}

void ActionDialog::buildProvisionTable()
{
    m_table = new QTableWidget(0, ColumnCount, this);
    m_table->setObjectName(QStringLiteral("provisionTable"));
    m_table->setHorizontalHeaderLabels({ tr("Region"), tr("Architecture"), tr("Workers") });
    m_table->horizontalHeader()->setSectionResizeMode(RegionColumn, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(ArchColumn, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(CountColumn, QHeaderView::ResizeToContents);
    m_table->verticalHeader()->hide();
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    for (const FleetAction &a : std::as_const(m_proposed))
        addProvisionRow(a.target, a.arch, a.count);
}

void ActionDialog::addProvisionRow(const QString &region, Arch arch, int count)
{
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    auto *regions = new QComboBox(m_table);
    for (const Region &r : m_session->store()->regions()) {
        // The region's own words are data: shown as text in the combo, never as markup.
        regions->addItem(
            tr("%1 (%2 free, %3)")
                .arg(r.id)
                .arg(capacityLeft(r))
                .arg(r.dispatchState == DispatchState::Active ? tr("active") : wireName(r.dispatchState).toString()),
            r.id);
    }
    regions->setCurrentIndex(std::max(0, regions->findData(region)));
    auto *archs = new QComboBox(m_table);
    for (int a = 0; a < kArchCount; ++a)
        archs->addItem(wireName(Arch(a)).toString(), a);
    archs->setCurrentIndex(int(arch));
    auto *spin = new QSpinBox(m_table);
    spin->setRange(0, 100000); // the server's per-request limit is checked by the dry run, with its words
    spin->setValue(count);
    spin->setAccessibleName(tr("Workers to provision"));
    m_table->setCellWidget(row, RegionColumn, regions);
    m_table->setCellWidget(row, ArchColumn, archs);
    m_table->setCellWidget(row, CountColumn, spin);
    connect(regions, &QComboBox::currentIndexChanged, this, &ActionDialog::schedulePreview);
    connect(archs, &QComboBox::currentIndexChanged, this, &ActionDialog::schedulePreview);
    connect(spin, &QSpinBox::valueChanged, this, &ActionDialog::schedulePreview);
}

QList<FleetAction> ActionDialog::fromForm() const
{
    const QString reason = m_reason->text().trimmed();
    const qint64 expiresIn = m_expiry ? m_expiry->currentData().toLongLong() : 0;
    const qint64 expiresAt = expiresIn > 0 ? m_session->store()->fleetNowMs() + expiresIn : 0;
    QList<FleetAction> out;
    if (m_kind == FleetAction::Kind::Provision) {
        for (int row = 0; row < m_table->rowCount(); ++row) {
            const auto *regions = qobject_cast<QComboBox *>(m_table->cellWidget(row, RegionColumn));
            const auto *archs = qobject_cast<QComboBox *>(m_table->cellWidget(row, ArchColumn));
            const auto *spin = qobject_cast<QSpinBox *>(m_table->cellWidget(row, CountColumn));
            if (spin->value() > 0)
                out.append(FleetAction::provision(regions->currentData().toString(), spin->value(),
                    Arch(archs->currentData().toInt()), reason, expiresAt));
        }
        return out;
    }
    for (FleetAction a : m_proposed) {
        a.reason = reason;
        a.expiresAt = a.kind == FleetAction::Kind::DrainRegion ? expiresAt : a.expiresAt;
        out.append(a);
    }
    return out;
}

QList<FleetAction> ActionDialog::actions() const
{
    return m_frozen ? m_confirmed : fromForm();
}

void ActionDialog::accept()
{
    if (!m_ok->isEnabled())
        return; // Enter before the dry run answered, or without a reason: nothing is confirmed
    m_confirmed = fromForm();
    m_frozen = true;
    QDialog::accept();
}

void ActionDialog::setSilenceRegion(const QString &region)
{
    m_silenceRegion = region;
    updateSilenceOffer();
}

QString ActionDialog::silenceRegion() const
{
    if (!m_silenceRegion.isEmpty())
        return m_silenceRegion;
    const QList<FleetAction> list = actions();
    return list.isEmpty() ? QString() : list.front().region();
}

bool ActionDialog::silenceRequested() const
{
    return m_silence && m_silence->isChecked() && !silenceRegion().isEmpty();
}

QString ActionDialog::silenceOfferText() const
{
    return m_silence ? m_silence->text() + u'\n' + m_silenceText->text() : QString();
}

void ActionDialog::updateSilenceOffer()
{
    if (!m_silence)
        return;
    const QString region = silenceRegion();
    m_silence->setText(tr("&Silence the alerts of %1 in Alertmanager while this lasts").arg(region));
    const QList<FleetAction> list = actions();
    const QList<AmAlert> matched
        = m_session->alertWatch() ? m_session->alertWatch()->alertsFor(region) : QList<AmAlert>();
    QStringList names;
    for (const AmAlert &a : matched)
        names << a.name();
    QString text
        = tr("Matches every alert with region=\"%1\", %2. Firing now: %3.")
              .arg(region,
                  list.isEmpty() ? QString()
                                 : MitigationSilences::endText(list.front(), m_session->store()->fleetNowMs(),
                                     QDateTime::currentMSecsSinceEpoch()),
                  names.isEmpty() ? tr("none")
                                  : QStringLiteral("%1 (%2)").arg(names.size()).arg(names.join(QStringLiteral(", "))));
    if (m_session->alertWatch() && m_session->alertWatch()->isStale())
        text += u' ' + m_session->alertWatch()->statusText(QDateTime::currentMSecsSinceEpoch());
    text += m_silence->isChecked()
        ? tr(" Created once the fleet accepts the action; listed under Operations › Silences.")
        : tr(" Not silenced: the alerts keep paging.");
    m_silenceText->setText(text);
}

void ActionDialog::schedulePreview()
{
    updateSilenceOffer();
    m_previewOk = false;
    ++m_previewGeneration; // answers to the previous form are ignored
    m_preview->setPlainText(tr("Asking the server…"));
    updateConfirm();
    m_debounce->start();
}

void ActionDialog::runPreview()
{
    m_previewOk = false;
    const int generation = ++m_previewGeneration;
    delete m_previewContext; // drops answers still on their way
    m_previewContext = new QObject(this);
    const QList<FleetAction> list = fromForm();
    if (list.isEmpty()) {
        m_preview->setPlainText(tr("Nothing to do: every count is 0."));
        updateConfirm();
        return;
    }
    // The reason is required by the server, but the preview should not wait for it.
    QList<FleetAction> previewed = list;
    for (FleetAction &a : previewed) {
        if (a.reason.isEmpty())
            a.reason = QStringLiteral("preview");
    }
    struct Collected
    {
        QStringList lines;
        QSet<QString> notes;
        int pending = 0;
        bool ok = true;
        int workers = 0;
    };
    auto collected = std::make_shared<Collected>();
    collected->pending = int(previewed.size());
    QStringList warnings;
    for (const FleetAction &a : std::as_const(previewed)) {
        const QString overlap = m_session->actions()->overlapWarning(a);
        if (!overlap.isEmpty() && !warnings.contains(overlap))
            warnings << overlap;
        m_session->actions()->preview(a, m_previewContext, [this, a, collected, generation](ApiResult<DryRunResult> r) {
            if (generation != m_previewGeneration)
                return;
            if (r.ok()) {
                const DryRunResult &d = r.value();
                collected->workers += d.workersAffected;
                QString line = tr("%1: workers taking builds there %2 → %3; room for %4 more")
                                   .arg(a.describe())
                                   .arg(d.activeWorkersBefore)
                                   .arg(d.activeWorkersAfter)
                                   .arg(d.capacityLeft);
                if (a.kind != FleetAction::Kind::Provision)
                    line += tr("; %1 running and %2 queued builds affected").arg(d.runningBuilds).arg(d.queuedBuilds);
                collected->lines << line;
                for (const QString &note : d.notes) {
                    // The same note for every request but its numbers, region and arch: shown once.
                    QString shape = note;
                    shape.remove(a.target).remove(wireName(a.arch).toString());
                    static const QRegularExpression digits(QStringLiteral("[0-9]+"));
                    shape.remove(digits);
                    if (!collected->notes.contains(shape))
                        collected->lines << QStringLiteral("    ") + note;
                    collected->notes << shape;
                }
            } else {
                collected->ok = false;
                const ApiError &e = r.error();
                collected->lines << tr("%1: refused: %2")
                                        .arg(a.describe(),
                                            e.problem && !e.problem->detail.isEmpty() ? e.problem->detail : e.message);
            }
            if (--collected->pending > 0)
                return;
            m_preview->setPlainText(collected->lines.join(u'\n'));
            m_previewOk = collected->ok;
            // Blast radius: region-wide changes, large provisions and production ask for the region name typed.
            const bool production = m_session->profile().production;
            const bool large = m_kind == FleetAction::Kind::DrainRegion
                || (m_kind == FleetAction::Kind::Provision && collected->workers > largeProvision(m_session));
            m_typedConfirmation = production || large;
            // The words to type name everything the action touches: every region (or worker) of every request,
            // in order, once each ("us-east eu-west"), not only the first.
            QStringList targets;
            for (const FleetAction &a : m_kind == FleetAction::Kind::Provision ? fromForm() : m_proposed) {
                if (!targets.contains(a.target))
                    targets << a.target;
            }
            m_confirmWord = targets.join(u' ');
            updateConfirm();
            Q_EMIT previewFinished(collected->ok);
        });
    }
    m_warning->setText(warnings.isEmpty()
            ? QString()
            : tr("Already in flight or recent on the same region:\n%1").arg(warnings.join(u'\n')));
    m_warning->setVisible(!warnings.isEmpty());
    updateConfirm();
}

void ActionDialog::updateConfirm()
{
    const bool reasonGiven = !m_reason->text().trimmed().isEmpty();
    m_confirmLabel->setVisible(m_typedConfirmation);
    m_confirm->setVisible(m_typedConfirmation);
    if (m_typedConfirmation)
        m_confirmLabel->setText(m_session->profile().production
                ? tr("This is a PRODUCTION fleet. Type %1 to confirm:").arg(m_confirmWord)
                : tr("This changes a lot at once. Type %1 to confirm:").arg(m_confirmWord));
    const bool typed = !m_typedConfirmation || m_confirm->text().trimmed() == m_confirmWord;
    const QString why = m_session->whyCannotAct(Role::Operator);
    m_ok->setEnabled(m_previewOk && reasonGiven && typed && why.isEmpty());
    QString tip;
    if (!why.isEmpty())
        tip = why;
    else if (!m_previewOk)
        tip = tr("waiting for the server's dry run, or it refused");
    else if (!reasonGiven)
        tip = tr("a reason is required");
    else if (!typed)
        tip = tr("type %1 to confirm").arg(m_confirmWord);
    m_ok->setToolTip(tip);
    // Requests the form makes (rows with workers), counted without building actions on every key press.
    int n = int(m_proposed.size());
    if (m_table) {
        n = 0;
        for (int row = 0; row < m_table->rowCount(); ++row)
            n += qobject_cast<QSpinBox *>(m_table->cellWidget(row, CountColumn))->value() > 0 ? 1 : 0;
    }
    m_ok->setText(m_kind != FleetAction::Kind::Provision ? title(m_kind, m_confirmWord).section(u' ', 0, 0)
            : n == 1                                     ? tr("Provision")
                                                         : tr("Provision (%1 requests)").arg(n));
}

QString ActionDialog::previewText() const
{
    return m_preview->toPlainText();
}

QString ActionDialog::warningText() const
{
    return m_warning->isVisible() ? m_warning->text() : QString();
}

} // namespace fleet
