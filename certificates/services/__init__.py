"""Writes of the certificates app, one module per subject:

- ``certificates``: serial numbers, issuing one certificate, the state machine, voids, rendering;
- ``batches``: ex-officio batches (start, claimed chunks, progress, retry, resume);
- ``print_files``: print files (a batch's, and the day's for single issues), rendered in chunks;
- ``requests``: members' re-issue requests (also filed via the 事業所) and their review;
- ``packets``: packets out to the 事業所, handovers and returns, 回収 of a leaver's certificate.

Callers use ``from certificates import services`` and the names below.
"""

from .batches import (
    CHUNK_SIZE,
    batch_approved,
    batch_chunks,
    batch_process_chunk,
    batch_refresh,
    batch_retry_failed,
    batch_sent_back,
    batch_start,
    batches_resume_stalled,
    propose_monthly_run,
)
from .certificates import (
    CertificateRefused,
    CertificateVoid,
    certificate_issue,
    certificate_issue_single,
    certificate_pdf,
    certificate_transition,
    certificates_transition,
    certificates_void,
    certificates_void_approved,
    certificates_void_ended_eligibility,
    certificates_void_or_ask,
    describe_error,
    mailing_problem,
    next_serials,
)
from .print_files import (
    COVER_ROWS_PER_PAGE,
    batch_assemble_print_files,
    daily_print_files_make,
    print_file_assemble,
    print_file_content,
    print_groups,
)
from .requests import (
    EX_OFFICIO,
    OPEN_REQUEST,
    Refusal,
    RequestRefused,
    check_request,
    request_approve,
    request_enter_paper,
    request_mark_issued,
    request_reject,
    request_submit,
    request_submit_via_employer,
    request_withdraw,
)

__all__ = [
    "CHUNK_SIZE",
    "COVER_ROWS_PER_PAGE",
    "EX_OFFICIO",
    "OPEN_REQUEST",
    "CertificateRefused",
    "CertificateVoid",
    "Refusal",
    "RequestRefused",
    "batch_approved",
    "batch_assemble_print_files",
    "batch_chunks",
    "batch_process_chunk",
    "batch_refresh",
    "batch_retry_failed",
    "batch_sent_back",
    "batch_start",
    "batches_resume_stalled",
    "certificate_issue",
    "certificate_issue_single",
    "certificate_pdf",
    "certificate_transition",
    "certificates_transition",
    "certificates_void",
    "certificates_void_approved",
    "certificates_void_ended_eligibility",
    "certificates_void_or_ask",
    "check_request",
    "daily_print_files_make",
    "describe_error",
    "mailing_problem",
    "next_serials",
    "print_file_assemble",
    "print_file_content",
    "print_groups",
    "propose_monthly_run",
    "request_approve",
    "request_enter_paper",
    "request_mark_issued",
    "request_reject",
    "request_submit",
    "request_submit_via_employer",
    "request_withdraw",
]
