-- One row per user (the last-loaded delivery of each userid); text trimmed. PII stays as landed:
-- it is masked by role in gold (rpt_tech_all_users), and bronze is readable by engineers only.
{{ cleaned_and_deduplicated_sql(source('tickit', 'users'), [
    ('userid', 'userid'),
    ('username', 'trim(username)'),
    ('firstname', 'trim(firstname)'),
    ('lastname', 'trim(lastname)'),
    ('city', 'trim(city)'),
    ('state', 'trim(state)'),
    ('email', 'lower(trim(email))'),
    ('phone', 'trim(phone)'),
    ('likesports', 'likesports'),
    ('liketheatre', 'liketheatre'),
    ('likeconcerts', 'likeconcerts'),
    ('likejazz', 'likejazz'),
    ('likeclassical', 'likeclassical'),
    ('likeopera', 'likeopera'),
    ('likerock', 'likerock'),
    ('likevegas', 'likevegas'),
    ('likebroadway', 'likebroadway'),
    ('likemusicals', 'likemusicals'),
], 'userid') }}
