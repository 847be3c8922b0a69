"""資格確認書 (eligibility certificates): the ex-officio list (職権交付), re-issue
requests and their review, issuing, and the PDFs rendered by Celery workers."""
