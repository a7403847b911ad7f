-- wrk script: POST /report with a complete valid form and a fresh card per request.
-- Each wrk thread takes a disjoint slice of the card file (CARDS env var).
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  cards = {}
  local i = 0
  for line in io.lines(os.getenv("CARDS")) do
    if i % nthreads == id then
      table.insert(cards, line)
    end
    i = i + 1
  end
  next_card = 1
  body_tail = "&category=verbal&channel=chat_group&department=%E5%8E%BF%E5%86%9C%E4%B8%9A%E5%86%9C%E6%9D%91%E5%B1%80"
    .. "&township=&occurred=2026-10&listed=no&body="
    .. "%E9%95%87%E9%87%8C%E5%9C%A8%E5%B7%A5%E4%BD%9C%E7%BE%A4%E8%A6%81%E6%B1%82%E6%AF%8F%E5%A4%A9"
    .. "%E4%B8%8A%E6%8A%A5%E5%B7%A1%E6%9F%A5%E7%85%A7%E7%89%87%EF%BC%8C%E5%B7%B2%E6%8C%81%E7%BB%AD"
    .. "%E4%B8%89%E4%B8%AA%E6%9C%88%E3%80%82"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local card = cards[next_card] or cards[#cards]
  next_card = next_card + 1
  return wrk.format("POST", "/report", nil, "token=" .. card .. body_tail)
end
