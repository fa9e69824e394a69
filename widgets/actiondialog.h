#pragma once

#include "fleetaction.h"

#include <QDialog>
#include <QPointer>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTimer;

namespace fleet {

class FleetSession;

// Asks for one failover move and shows what it will do before it is done: the form (pre-filled by the caller, e.g.
// with the recommendation), the server's dry run of every action (workers before and after, builds affected,
// capacity left, notes), and a warning when another operation is in flight or recent on the same region. The dry run
// runs on opening and again after every change, so accepting a recommendation is one key: Enter. Confirmation is
// proportional to the blast radius: one button for a small change; typing the region name for a region-wide drain,
// a large provision, or anything on a production profile. The dialog sends nothing: actions() is what the engineer
// confirmed, for the session's ActionController.
class ActionDialog : public QDialog
{
    Q_OBJECT

public:
    // `proposed` are actions of one kind; provision may hold several (one per region and architecture).
    // `context` is a sentence at the top (the recommendation's summary, what a drain does).
    ActionDialog(
        FleetSession *session, const QList<FleetAction> &proposed, const QString &context, QWidget *parent = nullptr);

    // What the engineer confirmed, frozen (with its idempotency keys) when the dialog was accepted; before that, the
    // form as it stands.
    QList<FleetAction> actions() const;
    void accept() override;
    bool needsTypedConfirmation() const { return m_typedConfirmation; }
    QString confirmationWord() const { return m_confirmWord; }
    bool isPreviewed() const { return m_previewOk; }
    QString previewText() const;
    QString warningText() const;

    // A provision is large, and asks for the region name, past this many workers: a quarter of the fleet's live
    // workers, and at least 20.
    static int largeProvision(const FleetSession *session);

    // The offer of a silence with a drain or a provision, when the session has an Alertmanager (issue #23). A drain
    // silences its own region, ticked by default; a provision of replacements silences the region it replaces (the
    // caller says which; else the first row's), not ticked.
    void setSilenceRegion(const QString &region);
    QString silenceRegion() const;
    bool silenceRequested() const;
    QString silenceOfferText() const; // the check box and the preview under it, for tests and screenshots

Q_SIGNALS:
    void previewFinished(bool ok);

private:
    void buildProvisionTable();
    void addProvisionRow(const QString &region, Arch arch, int count);
    void schedulePreview();
    void runPreview();
    void updateConfirm();
    void updateSilenceOffer();
    QList<FleetAction> fromForm() const;

    FleetSession *m_session;
    FleetAction::Kind m_kind;
    QList<FleetAction> m_proposed;
    QLabel *m_context;
    QTableWidget *m_table = nullptr; // provision
    QLineEdit *m_reason;
    QComboBox *m_expiry = nullptr;
    QPlainTextEdit *m_preview;
    QLabel *m_warning;
    QLabel *m_confirmLabel;
    QLineEdit *m_confirm;
    QDialogButtonBox *m_buttons;
    QPushButton *m_ok;
    QTimer *m_debounce;
    QCheckBox *m_silence = nullptr;
    QLabel *m_silenceText = nullptr;
    QString m_silenceRegion;
    int m_previewGeneration = 0;
    bool m_previewOk = false;
    bool m_typedConfirmation = false;
    QString m_confirmWord;
    QPointer<QObject> m_previewContext;
    QList<FleetAction> m_confirmed;
    bool m_frozen = false;
};

} // namespace fleet
